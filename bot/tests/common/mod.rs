//! What the bot's tests and benches share: the engine over a test pipeline's ports.

use spendstream_bot::{Engine, EnginePorts};
use spendstream_testkit::TestApp;
use std::sync::Arc;

/// The conversation engine over `app`'s ports, with its config (shipped texts and rules).
pub fn engine(app: &TestApp) -> Arc<Engine> {
    let ports = EnginePorts {
        log: app.ports.log.clone(),
        store: app.ports.store.clone(),
        accounts: app.ports.accounts.clone(),
        chats: app.ports.chats.clone(),
    };
    Arc::new(Engine::from_config(app.state.config.clone(), ports).expect("the test config builds an engine"))
}
