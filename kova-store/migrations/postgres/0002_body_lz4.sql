-- Webhook bodies (8–10 KB of repetitive JSON) are compressed by TOAST; LZ4 does that several
-- times faster than the default pglz, which matters when a small machine records thousands a
-- second. Servers built without LZ4 (or older than PostgreSQL 14) keep the default.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'kova: keeping the default TOAST compression for events.body: %', SQLERRM;
END
$$;
-- Keep a compressed body in the row when the row still fits a page, instead of moving it to
-- the TOAST table once it passes 2 KB: one heap insert per event instead of three (row,
-- TOAST chunk, TOAST index), and reads need no second lookup.
ALTER TABLE events SET (toast_tuple_target = 8160);
