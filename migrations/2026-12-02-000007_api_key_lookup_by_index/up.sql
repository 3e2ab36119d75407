-- The guard's API-key look-up (`qbr_api_key_by_hash`, every request of a program) finds
-- the key through the unique index on its hash, however many keys there are. With
-- PostgreSQL's default costs (`random_page_cost` 4, a disk's) reading a table of up to
-- about 250 keys whole is estimated cheaper than the index, so the function's plan
-- (made once per connection) compared the hash of every key at every request: with 100
-- keys 25-30 µs of PostgreSQL's CPU more per call than with one, with 250 about 60 µs
-- more (measured on 2 cores). The tables are in memory: the index is the right plan at
-- any size. The SET clause costs a few µs per call, less than the scan from about 30
-- keys on.
ALTER FUNCTION qbr_api_key_by_hash(bytea) SET enable_seqscan = off;
