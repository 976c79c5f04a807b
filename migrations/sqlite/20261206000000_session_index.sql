-- Back-channel logout (OpenID Connect Back-Channel Logout 1.0): which session handles belong to
-- a provider's session (`sid:…`) or user (`sub:…`), and the handles a logout ended, so that every
-- instance sharing the database signs those sessions out.
CREATE TABLE accounts_session_index (
    provider TEXT NOT NULL,
    session_key TEXT NOT NULL,
    handle TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (provider, session_key, handle)
);
CREATE INDEX accounts_session_index_updated ON accounts_session_index (updated_at);
CREATE TABLE accounts_ended_sessions (
    handle TEXT PRIMARY KEY,
    ended_at BIGINT NOT NULL
);
CREATE INDEX accounts_ended_sessions_ended ON accounts_ended_sessions (ended_at);
