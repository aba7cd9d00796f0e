-- ecsd schema, version 13 (as SQLite's): the list's index also holds each server's status, so a
-- page of the default list (which leaves out the recycle bin) can be chosen by an index-only scan.
DROP INDEX servers_by_project;
CREATE INDEX servers_by_project ON servers(project_id, created_ns DESC, id) INCLUDE (status);
