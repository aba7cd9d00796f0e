-- SQLite's migration 0010 turned the host and group columns of servers from generated columns
-- into plain ones, because SQLite parsed the whole document for each of them on every update.
-- PostgreSQL computes a stored generated column once per row written, so here they stay
-- generated (0005) and this version changes nothing; it exists so both stores count the same
-- versions.
SELECT 1;
