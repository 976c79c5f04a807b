-- actix-oauth accounts (SQLite): one user has many sign-in identities.
-- Times are seconds since the Unix epoch.

CREATE TABLE accounts_users (
    -- AUTOINCREMENT: an id is never reused, so a stale session can never name a newer user.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT,
    -- The user's primary email, as a provider verified it; never an unverified address.
    email TEXT,
    -- The primary email lower-cased; unique, so two sign-ins racing with one email make one user.
    email_normalized TEXT UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE accounts_identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts_users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    name TEXT,
    username TEXT,
    email TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    -- The email lower-cased when the provider verified it, else NULL: what email linking reads.
    verified_email_normalized TEXT,
    picture TEXT,
    -- The provider's tokens: a format byte, then JSON (0) or AES-256-GCM nonce and ciphertext (1).
    token BLOB,
    created_at INTEGER NOT NULL,
    last_sign_in_at INTEGER NOT NULL,
    UNIQUE (provider, subject)
);

CREATE INDEX accounts_identities_user_id ON accounts_identities (user_id);
CREATE INDEX accounts_identities_verified_email ON accounts_identities (verified_email_normalized);
