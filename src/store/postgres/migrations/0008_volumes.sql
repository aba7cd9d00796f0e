-- EVS disks. The whole disk is `doc` (JSON); the other columns repeat what the list filters
-- and sorts on.
CREATE TABLE volumes (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    created_ns BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    multiattach BOOLEAN NOT NULL,
    size_gib BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX volumes_by_project ON volumes(project_id, created_ns DESC, id);
CREATE TABLE snapshot_volumes (snapshot TEXT NOT NULL, LIKE volumes);
CREATE INDEX snapshot_volumes_by_name ON snapshot_volumes(snapshot);
