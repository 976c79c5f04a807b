-- Emails are compared with ASCII case folding only (see `accounts::normalize_email`): the
-- normalized columns used to hold Unicode-lower-cased text, in which different mailboxes could be
-- equal (U+212A KELVIN SIGN lower-cases to an ASCII `k`). Recompute them from the stored address:
-- surrounding ASCII whitespace removed, `A`-`Z` folded to `a`-`z`, every other character kept.
-- (translate() rather than lower(), which follows the database's locale.)
-- The new form tells apart every pair the old one did, so the unique constraint cannot fail here.

UPDATE accounts_users
SET email_normalized = translate(btrim(email, ' ' || chr(9) || chr(10) || chr(12) || chr(13)), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE email_normalized IS NOT NULL AND email IS NOT NULL;

UPDATE accounts_identities
SET verified_email_normalized = translate(btrim(email, ' ' || chr(9) || chr(10) || chr(12) || chr(13)), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE verified_email_normalized IS NOT NULL AND email IS NOT NULL;
