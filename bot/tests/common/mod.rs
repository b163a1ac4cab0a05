//! What the bot's tests and benches share: the engine over a test pipeline's ports.

use spendstream_bot::{Engine, EnginePorts, Texts};
use spendstream_ingest::pipeline::load_rules;
use spendstream_processors::categorise::Categoriser;
use spendstream_processors::tips::TipRules;
use spendstream_testkit::TestApp;
use std::sync::Arc;

/// The conversation engine over `app`'s ports, with its config and the shipped texts.
pub fn engine(app: &TestApp) -> Arc<Engine> {
    let config = app.state.config.clone();
    let ports = EnginePorts {
        log: app.ports.log.clone(),
        store: app.ports.store.clone(),
        accounts: app.ports.accounts.clone(),
        chats: app.ports.chats.clone(),
    };
    let categoriser = Arc::new(Categoriser::new(&config.categories).expect("categories"));
    let rules = load_rules(&config.ingest).expect("sms rules");
    let tips = TipRules::from_config(&config.tips.rules).expect("tip rules");
    Arc::new(Engine::new(config, ports, categoriser, rules, tips, Texts::shipped("en").expect("texts")))
}
