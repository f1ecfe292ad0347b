-- Webhook bodies may be stored compressed: 0 = as received, 1 = LZ4 block with the
-- uncompressed length (u32, little endian) in front. An 8 KB GitHub payload shrinks about
-- 3.4x, so a row fits in one page and the writer moves a third of the bytes.
ALTER TABLE events ADD COLUMN body_codec INTEGER NOT NULL DEFAULT 0;
