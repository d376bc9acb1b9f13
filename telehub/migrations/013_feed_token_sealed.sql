-- The owner may see their current feed URL again (rotating kills the URL already in their
-- calendar): besides the hash used for lookup, keep the token sealed with AES-GCM under a key
-- derived from the app's secret key (telehub/sealing.py, as for TOTP secrets). Feeds issued
-- before this have no sealed copy: their owner rotates to see a new URL.
ALTER TABLE feed_tokens ADD COLUMN token_sealed bytea;
