-- The tokens of signed-in sessions when the accounts database is the app's token store: one row
-- per session handle and remote app, sealed like identity tokens.
CREATE TABLE accounts_session_tokens (
    handle TEXT NOT NULL,
    provider TEXT NOT NULL,
    token BLOB NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (handle, provider)
);
CREATE INDEX accounts_session_tokens_updated ON accounts_session_tokens (updated_at);
