-- Nova key pairs, version 10: one per project and name, with the public key and its
-- fingerprint in `doc` (a generated private key is never stored). `id` is the number Nova shows.
CREATE TABLE keypairs (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE snapshot_keypairs AS SELECT '' AS snapshot, * FROM keypairs WHERE 0;
CREATE INDEX snapshot_keypairs_by_name ON snapshot_keypairs(snapshot);
