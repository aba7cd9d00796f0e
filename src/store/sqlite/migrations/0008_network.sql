-- VPC objects, version 8: ports, security groups and their rules.

-- A port holds one address of a subnet for its whole life: the unique key is what keeps two
-- holders off one address. `doc` is the whole port (JSON); the columns repeat what queries use.
CREATE TABLE ports (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    -- The server the port is a NIC of, '' when none.
    device_id TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (project_id, subnet_id, ip)
);
CREATE INDEX ports_by_device ON ports(device_id);
CREATE INDEX ports_by_project ON ports(project_id, created_ns, id);

-- The addresses servers held become their NICs' ports, with the server's security groups.
INSERT INTO ports (id, project_id, subnet_id, ip, device_id, created_ns, doc)
SELECT json_extract(nic.value, '$.port_id'), s.project_id, json_extract(nic.value, '$.subnet_id'),
       json_extract(nic.value, '$.ip'), s.id, s.created_ns,
       json_object('id', json_extract(nic.value, '$.port_id'), 'project_id', s.project_id,
                   'subnet_id', json_extract(nic.value, '$.subnet_id'), 'ip', json_extract(nic.value, '$.ip'),
                   'mac', json_extract(nic.value, '$.mac'), 'device_id', s.id,
                   'device_owner', 'compute:' || json_extract(s.doc, '$.availability_zone'),
                   'security_group_ids', json(json_extract(s.doc, '$.security_group_ids')),
                   'primary', json(CASE WHEN nic.key = 0 THEN 'true' ELSE 'false' END),
                   'created', json_extract(s.doc, '$.created'))
FROM servers s, json_each(s.doc, '$.nics') nic;
DROP TABLE addresses;

CREATE TABLE security_groups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX security_groups_by_project ON security_groups(project_id, created_ns, id);

CREATE TABLE security_group_rules (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    security_group_id TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX security_group_rules_by_group ON security_group_rules(security_group_id, created_ns, id);

CREATE TABLE snapshot_ports AS SELECT '' AS snapshot, * FROM ports WHERE 0;
INSERT INTO snapshot_ports (snapshot, id, project_id, subnet_id, ip, device_id, created_ns, doc)
SELECT s.snapshot, json_extract(nic.value, '$.port_id'), s.project_id, json_extract(nic.value, '$.subnet_id'),
       json_extract(nic.value, '$.ip'), s.id, s.created_ns,
       json_object('id', json_extract(nic.value, '$.port_id'), 'project_id', s.project_id,
                   'subnet_id', json_extract(nic.value, '$.subnet_id'), 'ip', json_extract(nic.value, '$.ip'),
                   'mac', json_extract(nic.value, '$.mac'), 'device_id', s.id,
                   'device_owner', 'compute:' || json_extract(s.doc, '$.availability_zone'),
                   'security_group_ids', json(json_extract(s.doc, '$.security_group_ids')),
                   'primary', json(CASE WHEN nic.key = 0 THEN 'true' ELSE 'false' END),
                   'created', json_extract(s.doc, '$.created'))
FROM snapshot_servers s, json_each(s.doc, '$.nics') nic;
DROP TABLE snapshot_addresses;
CREATE TABLE snapshot_security_groups AS SELECT '' AS snapshot, * FROM security_groups WHERE 0;
CREATE TABLE snapshot_security_group_rules AS SELECT '' AS snapshot, * FROM security_group_rules WHERE 0;
CREATE INDEX snapshot_ports_by_name ON snapshot_ports(snapshot);
CREATE INDEX snapshot_security_groups_by_name ON snapshot_security_groups(snapshot);
CREATE INDEX snapshot_security_group_rules_by_name ON snapshot_security_group_rules(snapshot);
