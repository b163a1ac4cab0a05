#[test]
fn dump() {
    let path = std::env::var("SMS_DUMP").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sms/dev.jsonl").to_string());
    let input = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    spendstream_ingest::sms::parse_jsonl(spendstream_ingest::sms::SmsRules::shipped(), &input[..], &mut out).unwrap();
    std::fs::write("/tmp/sms_out.jsonl", out).unwrap();
}
