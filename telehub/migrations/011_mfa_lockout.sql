-- A guess budget that ends (NIST SP 800-63B §5.2.2 limits consecutive failed attempts): wrong
-- second-factor codes in a row, per user, set back to 0 by a right one. At mfa.LOCK_AFTER the
-- authenticator is locked until an administrator runs `telehub reset-authenticator`, which
-- deletes the row.
ALTER TABLE user_mfa
    ADD COLUMN failed_codes integer NOT NULL DEFAULT 0 CHECK (failed_codes >= 0);
