-- Several instances sharing the database: one refresh per token (a lease while one instance asks
-- the provider, then the refreshed token, sealed, for the others), and the single-use values
-- (used `state`s, logout tokens' `jti`s, as digests) every instance has seen used.
CREATE TABLE accounts_refresh_leases (
    lease_key TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL,
    token BLOB
);
CREATE INDEX accounts_refresh_leases_until ON accounts_refresh_leases (until_ms);
CREATE TABLE accounts_used_values (
    value_key TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX accounts_used_values_expires ON accounts_used_values (expires_at);
