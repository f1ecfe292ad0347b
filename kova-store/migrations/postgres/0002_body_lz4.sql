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
