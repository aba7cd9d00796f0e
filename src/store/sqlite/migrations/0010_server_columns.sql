-- The host and the ECS group of a server become plain columns, written with the document by
-- the store (servers.rs), instead of columns generated from it: SQLite evaluated the generated
-- columns' json_extract, a parse of the whole document, four times on every update of a server
-- (the old and new values for host_usage_on_update and for servers_by_group), which was most
-- of the cost of a batch of 1,000 and of every engine step. The columns keep their names and
-- their place at the end of the table, so snapshots (`SELECT *`) keep their shape.
DROP TRIGGER host_usage_on_insert;
DROP TRIGGER host_usage_on_delete;
DROP TRIGGER host_usage_on_update;
DROP INDEX servers_by_group;
ALTER TABLE servers DROP COLUMN host;
ALTER TABLE servers DROP COLUMN server_group_id;
ALTER TABLE servers ADD COLUMN host TEXT;
ALTER TABLE servers ADD COLUMN server_group_id TEXT;
UPDATE servers SET host = json_extract(doc, '$.host'), server_group_id = json_extract(doc, '$.server_group_id');
CREATE INDEX servers_by_group ON servers(server_group_id) WHERE server_group_id IS NOT NULL;
CREATE TRIGGER host_usage_on_insert AFTER INSERT ON servers WHEN NEW.host IS NOT NULL BEGIN
    INSERT INTO host_usage (host, instances, vcpus, ram_mib) VALUES (NEW.host, 1, NEW.vcpus, NEW.ram_mib)
    ON CONFLICT (host) DO UPDATE SET
        instances = instances + 1, vcpus = vcpus + NEW.vcpus, ram_mib = ram_mib + NEW.ram_mib;
END;
CREATE TRIGGER host_usage_on_delete AFTER DELETE ON servers WHEN OLD.host IS NOT NULL BEGIN
    UPDATE host_usage SET instances = instances - 1, vcpus = vcpus - OLD.vcpus, ram_mib = ram_mib - OLD.ram_mib
    WHERE host = OLD.host;
END;
CREATE TRIGGER host_usage_on_update AFTER UPDATE OF host, vcpus, ram_mib ON servers
WHEN OLD.host IS NOT NEW.host OR OLD.vcpus != NEW.vcpus OR OLD.ram_mib != NEW.ram_mib BEGIN
    UPDATE host_usage SET instances = instances - 1, vcpus = vcpus - OLD.vcpus, ram_mib = ram_mib - OLD.ram_mib
    WHERE host = OLD.host;
    INSERT INTO host_usage (host, instances, vcpus, ram_mib)
        SELECT NEW.host, 1, NEW.vcpus, NEW.ram_mib WHERE NEW.host IS NOT NULL
    ON CONFLICT (host) DO UPDATE SET
        instances = instances + 1, vcpus = vcpus + NEW.vcpus, ram_mib = ram_mib + NEW.ram_mib;
END;
-- Project usage moves only when the reserved flavor does, not on every update of a server.
DROP TRIGGER usage_on_update;
CREATE TRIGGER usage_on_update AFTER UPDATE OF vcpus, ram_mib ON servers
WHEN OLD.vcpus != NEW.vcpus OR OLD.ram_mib != NEW.ram_mib BEGIN
    UPDATE project_usage SET cores = cores - OLD.vcpus + NEW.vcpus, ram_mib = ram_mib - OLD.ram_mib + NEW.ram_mib
    WHERE project_id = NEW.project_id;
END;
