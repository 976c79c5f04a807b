-- Emails are compared with ASCII case folding only (see `accounts::normalize_email`): the
-- normalized columns used to hold Unicode-lower-cased text, in which different mailboxes could be
-- equal (U+212A KELVIN SIGN lower-cases to an ASCII `k`). Recompute them from the stored address:
-- surrounding ASCII whitespace removed, `A`-`Z` folded to `a`-`z`, every other character kept.
-- (Nested replace() rather than lower(), which folds more than ASCII when SQLite has ICU.)
-- The new form tells apart every pair the old one did, so the unique index cannot fail here.

UPDATE accounts_users
SET email_normalized = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(trim(email, char(32, 9, 10, 12, 13)), 'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'), 'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'), 'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'), 'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'), 'Y', 'y'), 'Z', 'z')
WHERE email_normalized IS NOT NULL AND email IS NOT NULL;

UPDATE accounts_identities
SET verified_email_normalized = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(trim(email, char(32, 9, 10, 12, 13)), 'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'), 'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'), 'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'), 'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'), 'Y', 'y'), 'Z', 'z')
WHERE verified_email_normalized IS NOT NULL AND email IS NOT NULL;
