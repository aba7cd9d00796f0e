//! `ecsd keys`: access key administration straight on the data dir's store, so keys can be
//! added or revoked while the server runs (it reads keys from the store on every request).

use std::path::Path;

use crate::config::StoreChoice;
use crate::store::{AccessKey, transact};

pub enum Action {
    Create { project_id: Option<String>, description: String },
    List,
    Revoke { access_key: String },
}

pub fn run(data_dir: &Path, store: &StoreChoice, action: Action) -> anyhow::Result<()> {
    if *store == StoreChoice::Sqlite {
        crate::create_data_dir(data_dir)?;
    }
    let store = store.open(data_dir)?;
    let store = store.as_ref();
    let now = time::OffsetDateTime::now_utc();
    match action {
        Action::Create { project_id, description } => {
            let generated = crate::credentials::generate();
            let project_id = project_id.unwrap_or(generated.project_id);
            if !crate::config::is_project_id(&project_id) {
                anyhow::bail!("project id {project_id:?} is not 32 lower-case hex characters");
            }
            let key = AccessKey {
                access_key: generated.access_key,
                secret_key: generated.secret_key,
                project_id,
                description,
                created: now,
                revoked: None,
                admin: false,
            };
            transact(store, |tx| {
                tx.ensure_project(&key.project_id, "")?;
                tx.put_access_key(&key)
            })?;
            println!(
                "access key: {}\nsecret key: {} (shown only now)\nproject id: {}",
                key.access_key, key.secret_key, key.project_id
            );
        }
        Action::List => {
            println!("{:<22} {:<34} {:<8} description", "access key", "project id", "state");
            for key in transact(store, |tx| tx.access_keys())? {
                let state = match (key.revoked, key.admin) {
                    (Some(_), _) => "revoked",
                    (None, true) => "admin",
                    (None, false) => "active",
                };
                println!("{:<22} {:<34} {:<8} {}", key.access_key, key.project_id, state, key.description);
            }
        }
        Action::Revoke { access_key } => {
            if !transact(store, |tx| tx.revoke_access_key(&access_key, now))? {
                anyhow::bail!("no access key {access_key}");
            }
            println!("revoked {access_key}: requests signed with it are refused from now on, across restarts too");
        }
    }
    Ok(())
}
