-- Kova compresses webhook bodies itself (LZ4, as the SQLite store does) before sending them:
-- a quarter of the bytes cross the connection, and the database server, whose CPU the whole
-- pool shares, no longer compresses them. `body_codec` says how `body` is stored: 0 as
-- received (every row written before this version, and bodies too small or too random to
-- shrink), 1 LZ4 block with the uncompressed length (u32, little-endian) in front. Adding a
-- column with a constant default rewrites nothing.
ALTER TABLE events ADD COLUMN body_codec SMALLINT NOT NULL DEFAULT 0;
-- Bodies that reach the database uncompressed are the ones Kova found not worth compressing:
-- TOAST may still move a large one out of line, but need not try to compress it again.
ALTER TABLE events ALTER COLUMN body SET STORAGE EXTERNAL;
