//! Nova key pairs of a project: create (imported or generated), list, show, delete.

use rand::RngCore;

use super::Ecs;
use crate::domain::Result;
use crate::domain::keypairs::{CreateKeypair, Created, Keypair};
use crate::store::{read, transact};

impl Ecs {
    /// `NovaCreateKeypair`: a generated key pair's private key is in the answer and nowhere
    /// else (not in the store, not in a log line).
    pub fn create_keypair(&self, project_id: &str, request: &CreateKeypair) -> Result<Created> {
        let mut seed = [0u8; 32];
        if request.public_key.is_none() {
            rand::rng().fill_bytes(&mut seed);
        }
        let mut created = request.build(project_id, seed, self.clock.now())?;
        seed.fill(0);
        created.keypair.id = transact(self.store.as_ref(), |tx| tx.insert_keypair(&created.keypair))?;
        tracing::info!(%project_id, name = %created.keypair.name, fingerprint = %created.keypair.fingerprint,
            generated = created.private_key.is_some(), "key pair created");
        Ok(created)
    }

    /// `NovaListKeypairs`: the project's key pairs, oldest first.
    pub fn list_keypairs(&self, project_id: &str) -> Result<Vec<Keypair>> {
        read(self.store.as_ref(), |tx| tx.keypairs(project_id))
    }

    /// `NovaShowKeypair`.
    pub fn show_keypair(&self, project_id: &str, name: &str) -> Result<Option<Keypair>> {
        read(self.store.as_ref(), |tx| tx.keypair(project_id, name))
    }

    /// `NovaDeleteKeypair`: false when the project has no key pair of that name. Servers made
    /// with it keep its name, as in Nova.
    pub fn delete_keypair(&self, project_id: &str, name: &str) -> Result<bool> {
        let deleted = transact(self.store.as_ref(), |tx| tx.delete_keypair(project_id, name))?;
        if deleted {
            tracing::info!(%project_id, %name, "key pair deleted");
        }
        Ok(deleted)
    }
}
