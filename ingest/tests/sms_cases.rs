//! Hand-written cases beyond the dev corpus: number and date formats, phrasing variants per
//! region, negatives that mention amounts, bad input, config errors and JSON lines.

use spendstream_ingest::sms::{
    Channel, Direction, SmsClass, SmsConfigError, SmsInputError, SmsRules, amount_minor, parse, parse_jsonl,
};

fn rules() -> &'static SmsRules {
    SmsRules::shipped()
}

fn strip(s: &str) -> String {
    let kept: String = s.to_lowercase().chars().filter(|c| c.is_alphanumeric() || c.is_whitespace()).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts a transaction and the given fields (merchant by containment either way, as the
/// fixture README scores it; amounts exactly as normalised).
#[track_caller]
fn tx(sender: &str, text: &str, want: &[(&str, &str)]) {
    let out = parse(rules(), sender, text).expect("valid input");
    assert_eq!(out.class, SmsClass::Transaction, "class of {text:?}: {out:?}");
    let t = out.transaction.expect("transaction");
    let v = serde_json::to_value(&t).expect("serialises");
    for (field, expected) in want {
        let got = v[*field].as_str().map(str::to_string);
        let ok = match (*field, got.as_deref()) {
            ("merchant", Some(g)) => {
                let (e, g) = (strip(expected), strip(g));
                !g.is_empty() && (e.contains(&g) || g.contains(&e))
            }
            (_, Some(g)) => g == *expected,
            (_, None) => *expected == "null",
        };
        assert!(ok, "{field}: want {expected:?}, got {got:?} in {text:?}\n{t:?}");
    }
}

#[track_caller]
fn class(sender: &str, text: &str, want: SmsClass) {
    let out = parse(rules(), sender, text).expect("valid input");
    assert_eq!(out.class, want, "class of {text:?}: {out:?}");
    if want != SmsClass::Transaction {
        assert!(out.transaction.is_none());
    }
}

// ---- formats -------------------------------------------------------------------------------

#[test]
fn indian_grouping_and_marks() {
    tx(
        "VM-HDFCBK",
        "Rs.1,23,456.78 debited from A/c XX4821 on 01-04-25 to VPA acme.corp@icici. UPI Ref 509100000001",
        &[
            ("amount", "123456.78"),
            ("currency", "INR"),
            ("account_last4", "4821"),
            ("kind", "upi"),
            ("date", "2025-04-01"),
        ],
    );
    tx(
        "VM-SBIUPI",
        "Dear UPI user A/C X6612 debited by 75.5 on date 02Apr25 trf to TEA POINT Refno 509200000002. If not u? call 1800111109. -SBI",
        &[("amount", "75.50"), ("merchant", "Tea Point"), ("reference", "509200000002"), ("date", "2025-04-02")],
    );
    tx(
        "VM-PHONPE",
        "₹ 1,05,000 paid to Urban Company from PhonePe Wallet. Wallet balance: ₹ 12.00. Txn ID T2504031111",
        &[("amount", "105000.00"), ("kind", "wallet"), ("balance", "12.00"), ("merchant", "Urban Company")],
    );
}

#[test]
fn euro_decimal_comma_and_space_grouping() {
    tx(
        "N26",
        "N26: Zahlung von €7,80 an Bäckerei Schmidt erfolgreich. Verfügbarer Kontostand: €2.345,67",
        &[
            ("amount", "7.80"),
            ("currency", "EUR"),
            ("balance", "2345.67"),
            ("merchant", "Bäckerei Schmidt"),
            ("direction", "debit"),
        ],
    );
    tx(
        "BNP",
        "BNP Paribas : Virement reçu de 2 100,50 EUR de la part de M. DURAND le 15/04/2025 sur votre compte ***5530.",
        &[
            ("amount", "2100.50"),
            ("direction", "credit"),
            ("merchant", "Durand"),
            ("date", "2025-04-15"),
            ("account_last4", "5530"),
        ],
    );
    tx(
        "Sparkasse",
        "Sparkasse: Belastung 12,50 EUR auf Konto ***8841 am 03.04.2025. Empfänger: Stadtwerke München, Verwendungszweck: Strom April.",
        &[("amount", "12.50"), ("date", "2025-04-03"), ("merchant", "Stadtwerke München"), ("kind", "transfer")],
    );
    tx(
        "Intesa",
        "Intesa Sanpaolo: pagamento di 45,00 EUR presso ESSELUNGA con carta ***4418 il 10/04/2025.",
        &[("amount", "45.00"), ("merchant", "Esselunga"), ("kind", "card"), ("date", "2025-04-10")],
    );
    tx(
        "ING",
        "ING: Er is €1.200,00 bijgeschreven op je rekening ***2291 van WERKGEVER BV op 25-04-2025.",
        &[("amount", "1200.00"), ("direction", "credit"), ("merchant", "Werkgever"), ("date", "2025-04-25")],
    );
}

#[test]
fn other_currencies() {
    tx(
        "MPESA",
        "SDG7H2J5KL Confirmed. Ksh450.00 paid to QUICKMART LTD. on 6/4/25 at 6:40 PM.New M-PESA balance is Ksh2,560.50. Transaction cost, Ksh0.00.",
        &[
            ("amount", "450.00"),
            ("currency", "KES"),
            ("merchant", "Quickmart"),
            ("balance", "2560.50"),
            ("date", "2025-04-06"),
            ("reference", "SDG7H2J5KL"),
            ("kind", "wallet"),
        ],
    );
    tx(
        "Kuda",
        "Kuda: You sent ₦5,000.00 to Tunde Bakare. Balance: ₦12,340.50",
        &[
            ("amount", "5000.00"),
            ("currency", "NGN"),
            ("merchant", "Tunde Bakare"),
            ("balance", "12340.50"),
            ("kind", "transfer"),
        ],
    );
    tx(
        "ADCBAlert",
        "ADCB: AED 2,000.00 transferred from your account XXX9920 to MOHAMMED ALI on 12/04/2025. Available balance is AED 19,040.00",
        &[
            ("amount", "2000.00"),
            ("currency", "AED"),
            ("direction", "debit"),
            ("merchant", "Mohammed Ali"),
            ("balance", "19040.00"),
        ],
    );
    tx(
        "UOB",
        "UOB: A transaction of S$42.10 was made with your UOB Card ending 1234 at SHENG SIONG on 15/04/25.",
        &[
            ("amount", "42.10"),
            ("currency", "SGD"),
            ("merchant", "Sheng Siong"),
            ("account_last4", "1234"),
            ("date", "2025-04-15"),
        ],
    );
    tx(
        "Westpac",
        "Westpac: Card purchase of $23.40 at BUNNINGS WAREHOUSE with card ending 1122 on 17/04/2025.",
        &[("amount", "23.40"), ("currency", "AUD"), ("merchant", "Bunnings"), ("date", "2025-04-17"), ("kind", "card")],
    );
    tx(
        "ANZ",
        "ANZ: A payment of A$1,000.00 from JANE SMITH has been received into your account ending 4107 on 18/04/2025.",
        &[
            ("amount", "1000.00"),
            ("currency", "AUD"),
            ("direction", "credit"),
            ("merchant", "Jane Smith"),
            ("kind", "transfer"),
        ],
    );
    tx("JPBANK", "JP Bank: JPY 1,500 spent at LAWSON on 2025-04-01.", &[("amount", "1500"), ("currency", "JPY")]);
    tx(
        "NBK",
        "NBK: KWD 12.500 debited from account XX1234 on 01/04/2025 at ALSHAYA.",
        &[("amount", "12.500"), ("currency", "KWD")],
    );
}

#[test]
fn dates_as_banks_write_them() {
    let cases = [
        ("Rs.100.00 debited from A/c XX1111 on 14/03/25 to SHOP ONE.", "2025-03-14"),
        ("Rs.100.00 debited from A/c XX1111 on 31-JAN-25 to SHOP ONE.", "2025-01-31"),
        ("Rs.100.00 spent on card XX1111 at SHOP ONE on 2024-11-08:19:42:11.", "2024-11-08"),
        ("Rs.100.00 debited from A/c XX1111 on 08 Nov 2024 to SHOP ONE.", "2024-11-08"),
        ("Rs.100.00 debited from A/c XX1111 on Nov 8, 2024 to SHOP ONE.", "2024-11-08"),
        ("Rs.100.00 debited from A/c XX1111 on 08.11.2024 to SHOP ONE.", "2024-11-08"),
        ("Rs.100.00 debited from A/c XX1111 on 8Nov24 to SHOP ONE.", "2024-11-08"),
    ];
    for (text, date) in cases {
        tx("VM-HDFCBK", text, &[("date", date)]);
    }
    // US senders write month first; a yearless date is no date.
    tx(
        "24273",
        "Chase: Your debit card ending in 4411 was charged $12.49 at TARGET T-1234 on 04/08/2025.",
        &[("date", "2025-04-08"), ("merchant", "Target"), ("account_last4", "4411")],
    );
    tx(
        "73981",
        "BofA: $60.00 ATM withdrawal from account ending in 7781 on 04/09.",
        &[("date", "null"), ("kind", "atm")],
    );
    tx(
        "HSBC UK",
        "HSBC UK: Your debit card ending 7720 was used for £9.99 at BOOTS 1123 on 02/04/2025.",
        &[("date", "2025-04-02"), ("merchant", "Boots")],
    );
}

#[test]
fn multi_line_alerts() {
    tx(
        "VM-AXISBK",
        "Debit INR 1,250.00\nA/c no. XX7783\n02-04-25, 10:22:10\nUPI/P2M/509212340000/ZEPTO MARKETPLACE\nNot you? SMS BLOCKUPI Cust ID to 919951860002\nAxis Bank",
        &[
            ("amount", "1250.00"),
            ("merchant", "Zepto"),
            ("reference", "509212340000"),
            ("kind", "upi"),
            ("date", "2025-04-02"),
        ],
    );
    tx(
        "GTBank",
        "Acct: 01****4427\nAmt: NGN50,000.00 CR\nDesc: TRANSFER FROM IBRAHIM MUSA/TRF\nAvail Bal: NGN192,310.55\nDate: 2025-04-09 09:00:01 AM",
        &[
            ("direction", "credit"),
            ("merchant", "Ibrahim Musa"),
            ("balance", "192310.55"),
            ("account_last4", "4427"),
            ("kind", "transfer"),
        ],
    );
    tx(
        "FirstBank",
        "Txn: Credit\nAcct:302***8812\nAmt:NGN 20,000.00\nDes:TRF FRM AMAKA EZE\nDate:10-Apr-2025 11:30\nBal:NGN 55,000.00",
        &[
            ("direction", "credit"),
            ("merchant", "Amaka Eze"),
            ("balance", "55000.00"),
            ("date", "2025-04-10"),
            ("account_last4", "8812"),
        ],
    );
}

// ---- phrasing variants per region --------------------------------------------------------

#[test]
fn india_variants() {
    tx(
        "VM-ICICIB",
        "Dear Customer, Acct XX112 is credited with Rs 2,000.00 on 03-Apr-25 from ravi.kumar@oksbi. UPI:509311112222-ICICI Bank.",
        &[
            ("direction", "credit"),
            ("merchant", "Ravi"),
            ("reference", "509311112222"),
            ("kind", "upi"),
            ("account_last4", "112"),
        ],
    );
    tx(
        "VM-SBIINB",
        "Your A/C XXXXX6612 has been debited by Rs.450.00 on 04Apr25 at POS RELIANCE FRESH. Avl Bal Rs.5,200.10 -SBI",
        &[("merchant", "Reliance Fresh"), ("kind", "card"), ("balance", "5200.10"), ("date", "2025-04-04")],
    );
    tx(
        "VM-AXISBK",
        "INR 15,000.00 credited to A/c no. XX7783 on 04-04-25 by NEFT from RAHUL SHARMA. Avl Bal: INR 43,114.60 - Axis Bank",
        &[("direction", "credit"), ("kind", "transfer"), ("merchant", "Rahul Sharma"), ("balance", "43114.60")],
    );
    tx(
        "VM-KOTAKB",
        "Rs.2,000.00 withdrawn from Kotak Bank AC X5519 at ATM on 05-04-2025. Avl Bal Rs.7,233.18",
        &[("kind", "atm"), ("merchant", "null"), ("account_last4", "5519")],
    );
    tx(
        "VM-PNBSMS",
        "A/c XX4410 debited INR 5,000.00 Dt 06-04-25 thru IMPS:509612340001 to SURESH KUMAR. Bal INR 8,909.00 -PNB",
        &[("kind", "transfer"), ("merchant", "Suresh Kumar"), ("reference", "509612340001"), ("balance", "8909.00")],
    );
    tx(
        "VM-PHONPE",
        "Paid ₹1,200 to Ola Cabs from A/c XX4821 via PhonePe UPI. UPI Ref: 509711223344",
        &[("amount", "1200.00"), ("merchant", "Ola"), ("kind", "upi"), ("reference", "509711223344")],
    );
    tx(
        "VM-ICICIB",
        "Payment of Rs.12,000.00 received towards your ICICI Bank Credit Card XX9004 on 08-Apr-25. Thank you.",
        &[("direction", "credit"), ("kind", "transfer"), ("account_last4", "9004")],
    );
    tx(
        "VM-HDFCBK",
        "EMI of Rs.3,450.00 for loan a/c XX5531 debited from A/c XX4821 on 05-04-25. Avl Bal Rs.12,000.00 -HDFC Bank",
        &[("amount", "3450.00"), ("kind", "other"), ("direction", "debit")],
    );
    tx(
        "VM-HDFCBK",
        "Your a/c XX4821 is debited with Rs.1,999.00 on 07-04-25 towards NACH/ACH-DR TATA AIA LIFE. Avl bal Rs.10,001.00",
        &[("merchant", "Tata AIA Life"), ("kind", "other"), ("balance", "10001.00")],
    );
    tx(
        "VM-KOTAKB",
        "Refund of Rs.1,299.00 from MYNTRA credited to your Kotak Credit Card x2231 on 06/04/2025",
        &[("direction", "credit"), ("kind", "refund"), ("merchant", "Myntra"), ("account_last4", "2231")],
    );
    tx(
        "VM-AMAZON",
        "You have paid Rs.249.00 to BookMyShow using Amazon Pay balance. Balance: Rs.1,751.00",
        &[("kind", "wallet"), ("merchant", "BookMyShow"), ("balance", "1751.00")],
    );
    tx(
        "VM-BOBTXN",
        "Rs.3,500.00 Credited to A/C XXXXXX2290 thru UPI/509999912345 by anita.r@okaxis on 10-04-25. AvlBal:Rs6,210.50",
        &[
            ("direction", "credit"),
            ("merchant", "Anita"),
            ("kind", "upi"),
            ("reference", "509999912345"),
            ("balance", "6210.50"),
        ],
    );
}

#[test]
fn us_uk_variants() {
    tx(
        "AMEX",
        "American Express: A charge of $250.00 at DELTA AIR LINES was approved on your Card ending in 31007 on 4/11/25.",
        &[("merchant", "Delta Air Lines"), ("account_last4", "1007"), ("date", "2025-04-11"), ("kind", "card")],
    );
    tx(
        "86753",
        "Venmo: You paid Sarah Lee $20.00 for coffee. Your Venmo balance is $92.40.",
        &[("direction", "debit"), ("merchant", "Sarah Lee"), ("kind", "wallet"), ("balance", "92.40")],
    );
    tx(
        "227898",
        "Capital One: A refund of $45.00 from NIKE.COM was credited to your card ending in 8804 on 04/13/2025.",
        &[("direction", "credit"), ("kind", "refund"), ("merchant", "Nike")],
    );
    tx(
        "347268",
        "Discover: We received your payment of $300.00 on 04/14/2025 for card ending 6675.",
        &[("direction", "credit"), ("kind", "transfer"), ("account_last4", "6675")],
    );
    tx(
        "93557",
        "Wells Fargo: Zelle® payment of $75.00 sent to JOHN DOE on 04/10/2025 from account ending 4471.",
        &[("direction", "debit"), ("kind", "transfer"), ("merchant", "John Doe"), ("account_last4", "4471")],
    );
    tx(
        "Starling",
        "Starling: You paid £14.99 to Netflix with your card ending 4410. Balance £1,203.11",
        &[("merchant", "Netflix"), ("account_last4", "4410"), ("balance", "1203.11"), ("kind", "card")],
    );
    tx(
        "Barclays",
        "Barclays: You've received £300.00 from MRS A PATEL into your account ending 4512 on 02/04/2025.",
        &[("direction", "credit"), ("merchant", "A Patel"), ("kind", "transfer")],
    );
    tx(
        "Lloyds",
        "Lloyds: Direct Debit of £12.00 to SPOTIFY paid from account ending 6620 on 03/04/2025.",
        &[("kind", "other"), ("merchant", "Spotify")],
    );
    tx(
        "HSBC UK",
        "HSBC UK: Standing order of £500.00 to GREEN LETTINGS LTD paid from account ending 3380 on 01/04/2025.",
        &[("kind", "other"), ("merchant", "Green Lettings"), ("amount", "500.00")],
    );
}

#[test]
fn more_phrasings() {
    tx(
        "VM-UNIONB",
        "A/c *3344 Debited for Rs:250.00 on 15-04-2025 12:30:11 by Mob Bk ref no 510712345678 Avl Bal Rs:5000.00. -Union Bank of India",
        &[
            ("amount", "250.00"),
            ("account_last4", "3344"),
            ("balance", "5000.00"),
            ("reference", "510712345678"),
            ("merchant", "null"),
        ],
    );
    tx(
        "VM-AXISBK",
        "Spent Card no. XX1846 INR 1,299 04-05-25 12:30:45 AMAZON Avl Lmt INR 56,911 SMS BLOCK 1846 to 919951860002, if not you - Axis Bank",
        &[
            ("amount", "1299.00"),
            ("merchant", "Amazon"),
            ("date", "2025-05-04"),
            ("account_last4", "1846"),
            ("balance", "null"),
        ],
    );
    tx(
        "24273",
        "Chase: You made a $8.75 debit card transaction with DUNKIN #4421 on Apr 15, 2025 at 7:41 AM ET.",
        &[("amount", "8.75"), ("merchant", "Dunkin"), ("kind", "card"), ("date", "2025-04-15")],
    );
    tx(
        "692484",
        "Citi: A $15.99 charge from SPOTIFY USA was made on your card ending in 3318 on 04/16/2025.",
        &[("merchant", "Spotify"), ("direction", "debit"), ("account_last4", "3318")],
    );
    tx(
        "Barclays",
        "Barclays: £1,500.00 has been paid into your account ending 4512 from ACME LTD on 25/04/2025.",
        &[("direction", "credit"), ("merchant", "Acme"), ("kind", "transfer")],
    );
    tx(
        "N26",
        "N26: Du hast 50,00 € von Lisa Müller erhalten. Kontostand: €1.056,22",
        &[("amount", "50.00"), ("direction", "credit"), ("merchant", "Lisa Müller"), ("balance", "1056.22")],
    );
    tx(
        "BBVA",
        "BBVA: Has recibido una transferencia de 120,00 EUR de JUAN PEREZ el 26/04/2025.",
        &[("amount", "120.00"), ("direction", "credit"), ("merchant", "Juan Perez"), ("kind", "transfer")],
    );
    tx(
        "CreditAgri",
        "Crédit Agricole : Prélèvement de 29,99 € par FREE MOBILE le 26/04/2025 sur votre compte ***7712.",
        &[("amount", "29.99"), ("merchant", "Free Mobile"), ("kind", "other"), ("account_last4", "7712")],
    );
    tx(
        "ING",
        "ING: Er is €250,00 bijgeschreven op je rekening ***2291 van J. DE VRIES op 14-05-2025.",
        &[("direction", "credit"), ("merchant", "J. de Vries"), ("date", "2025-05-14")],
    );
    tx(
        "Intesa",
        "Intesa Sanpaolo: accredito di 1.500,00 EUR da ROSSI SRL sul conto ***4418 il 14/05/2025.",
        &[("amount", "1500.00"), ("direction", "credit"), ("merchant", "Rossi")],
    );
    tx(
        "EQUITYBANK",
        "Equity Bank: KES 1,200.00 has been debited from A/C ...7788 on 11/05/2025 to pay SAFARICOM POSTPAID. Avail Bal KES 50,030.00. Ref S25131Q2Y",
        &[("merchant", "Safaricom"), ("account_last4", "7788"), ("reference", "S25131Q2Y")],
    );
    class(
        "VM-AMAZON",
        "Your refund of Rs.499.00 for order 402-1111111-2222222 has been initiated and will be credited in 3-5 days.",
        SmsClass::Other,
    );
    class("DBS", "DBS: Your fixed deposit of SGD 10,000.00 will mature on 15/05/2025.", SmsClass::Other);
    class(
        "VM-SBIINB",
        "Dear Customer, your loan EMI of Rs.8,500 is overdue. Please pay immediately to avoid penal charges.",
        SmsClass::BillDue,
    );
    class(
        "VM-HDFCBK",
        "Dear Customer, Rs.1,000.00 will be auto-debited from your A/c XX4821 on 01-05-2025 towards SIP in AXIS BLUECHIP FUND.",
        SmsClass::Other,
    );
    class(
        "CommBank",
        "CommBank: Your scheduled transfer of $300.00 to SAVINGS will be processed on 10/05/2025.",
        SmsClass::Other,
    );
}

#[test]
fn typed_fields() {
    let out = parse(rules(), "Monzo", "You spent £8.40 at Pret A Manger. Your balance is now £412.66.").expect("ok");
    let t = out.transaction.expect("tx");
    assert_eq!(t.direction, Direction::Debit);
    assert_eq!(t.kind, Channel::Card);
    assert_eq!(amount_minor(&t.amount, &t.currency), Some(840));
    assert!(out.template.is_some());
}

// ---- negatives -------------------------------------------------------------------------------

#[test]
fn otp_and_offers_with_amounts_are_not_transactions() {
    class("VM-FLPKRT", "Your OTP for payment of Rs.4,500.00 at FLIPKART is 123456. Valid for 10 mins.", SmsClass::Otp);
    class(
        "24273",
        "Use 8841 as your one-time password to confirm transfer of $500 to Mike. Don't share it.",
        SmsClass::Otp,
    );
    class(
        "VM-HDFCBK",
        "Rs.2,000.00 will be debited only after you enter OTP 554433 on the merchant page. Do not share.",
        SmsClass::Otp,
    );
    class("VM-AXISBK", "Get Rs.500 cashback on your first credit card spend of Rs.5,000. Apply now!", SmsClass::Promo);
    class("VM-BAJAJF", "Pre-approved loan of Rs 2,00,000 credited instantly! Click to claim.", SmsClass::Promo);
    class(
        "AD-MYNTRA",
        "Flat 60% off + extra Rs.300 off on orders above Rs.1,499. Shop now: myntr.in/s",
        SmsClass::Promo,
    );
    class("Revolut", "Revolut: Earn 5% cashback up to £50 on travel bookings this week. T&Cs apply.", SmsClass::Promo);
}

#[test]
fn other_negative_classes() {
    class(
        "VM-ICICIB",
        "Transaction of Rs.2,500.00 on your card XX9004 was declined due to incorrect CVV.",
        SmsClass::Declined,
    );
    class("VM-HDFCBK", "Your A/c XX4821 balance is Rs.10,234.56 as on 10-04-2025.", SmsClass::Balance);
    class(
        "VM-HDFCBK",
        "Rs.1,499.00 will be debited from your a/c XX4821 on 15-04-2025 for your Netflix subscription via UPI Autopay.",
        SmsClass::Other,
    );
    class(
        "VM-PHONPE",
        "ravi@okaxis has requested money Rs.500.00 from you on PhonePe. Approve only if you know them.",
        SmsClass::Other,
    );
    class(
        "VM-ICICIB",
        "Your ICICI Bank Credit Card XX9004 statement: Total due Rs.23,456.00, minimum due Rs.1,200.00, due date 20-Apr-25.",
        SmsClass::BillDue,
    );
    class("VM-SBIBNK", "Beware of fraud calls offering refunds of Rs.5,000. Bank never asks for OTP.", SmsClass::Other);
    class("Mom", "Hi, can you send me 500 for groceries? 🙏", SmsClass::Other);
    class("X", "🎉🎉🎉 ₹₹₹ $$$ ###", SmsClass::Other);
    class("X", "Rs. Rs. Rs. 99999999999999999999999999 debited", SmsClass::Other);
}

#[test]
fn bill_fields() {
    let out = parse(rules(), "VM-ICICIB",
        "Your ICICI Bank Credit Card XX9004 statement: Total due Rs.23,456.00, minimum due Rs.1,200.00, due date 20-Apr-25.").expect("ok");
    let b = out.bill.expect("bill");
    assert_eq!(b.amount_due, "23456.00");
    assert_eq!(b.min_due.as_deref(), Some("1200.00"));
    assert_eq!(b.currency, "INR");
    assert_eq!(b.due_date.map(|d| d.to_string()).as_deref(), Some("2025-04-20"));
    assert_eq!(b.account_last4.as_deref(), Some("9004"));
}

// ---- bad input ---------------------------------------------------------------------------

#[test]
fn bad_input_is_an_error() {
    let r = rules();
    assert_eq!(parse(r, "X", ""), Err(SmsInputError::Empty));
    assert_eq!(parse(r, "X", " \n\t "), Err(SmsInputError::Empty));
    let long = "a".repeat(2049);
    assert_eq!(parse(r, "X", &long), Err(SmsInputError::TooLong { len: 2049, max: 2048 }));
    assert!(parse(r, "X", &"a".repeat(2048)).is_ok());
    assert_eq!(parse(r, "X", "Rs.100\0 debited"), Err(SmsInputError::Binary { offset: 6 }));
    assert!(matches!(parse(r, "X", "ok\u{7}"), Err(SmsInputError::Binary { .. })));
    assert!(parse(r, "X", "line one\r\nline\ttwo").is_ok());
}

// ---- config -----------------------------------------------------------------------------------

fn shipped_with(from: &str, to: &str) -> String {
    let text = spendstream_ingest::sms::SHIPPED_TOML;
    assert!(text.contains(from), "fixture edit `{from}` not found");
    text.replacen(from, to, 1)
}

#[test]
fn config_errors_name_the_entry_and_key() {
    let bad_regex = shipped_with(
        "name = \"ke-mpesa-airtime\"\nsenders = [\"mpesa\"]\nkeywords = [\"airtime\"]\npattern = '",
        "name = \"ke-mpesa-airtime\"\nsenders = [\"mpesa\"]\nkeywords = [\"airtime\"]\npattern = '(unclosed",
    );
    let e = SmsRules::from_toml_str(&bad_regex).expect_err("bad regex");
    let msg = e.to_string();
    assert!(msg.contains("template `ke-mpesa-airtime`") && msg.contains("key `pattern`"), "{msg}");

    let bad_sender = shipped_with("senders = [\"mpesa\"]", "senders = [\"nope\"]");
    let msg = SmsRules::from_toml_str(&bad_sender).expect_err("unknown group").to_string();
    assert!(msg.contains("key `senders`") && msg.contains("nope"), "{msg}");

    let bad_macro = shipped_with("{{money}}\\s+(?:sent|paid)", "{{monee}}\\s+(?:sent|paid)");
    let msg = SmsRules::from_toml_str(&bad_macro).expect_err("unknown macro").to_string();
    assert!(msg.contains("monee"), "{msg}");

    let bad_class = shipped_with("class = \"otp\"", "class = \"spam\"");
    assert!(matches!(SmsRules::from_toml_str(&bad_class), Err(SmsConfigError::Toml(_))));

    let unknown_key = shipped_with("version = 1", "version = 1\ncolour = \"blue\"");
    assert!(matches!(SmsRules::from_toml_str(&unknown_key), Err(SmsConfigError::Toml(_))));

    assert!(SmsRules::from_toml_str("not toml [").is_err());
}

#[test]
fn shipped_rules_compile_and_new_templates_need_only_toml() {
    assert!(SmsRules::from_toml_str(spendstream_ingest::sms::SHIPPED_TOML).is_ok());
    assert!(!SmsRules::shipped().template_names().is_empty());
    let text = "ACME: 42,00 QQ moved to FOO BAR.";
    assert_eq!(parse(SmsRules::shipped(), "ACME", text).map(|o| o.class), Ok(SmsClass::Other));
    let extra = format!(
        "{}\n[[templates]]\nname = \"acme-moved\"\nkeywords = [\"moved\"]\npattern = '(?P<amount_alt>{{{{num}}}})\\s+QQ\\s+moved\\s+to\\s+(?P<merchant>[^.]+)'\ncurrency = \"EUR\"\ndirection = \"debit\"\nkind = \"transfer\"\n",
        spendstream_ingest::sms::SHIPPED_TOML
    );
    let rules = SmsRules::from_toml_str(&extra).expect("extended rules compile");
    let out = parse(&rules, "ACME", text).expect("ok");
    assert_eq!(out.template.as_deref(), Some("acme-moved"));
    let t = out.transaction.expect("tx");
    assert_eq!((t.amount.as_str(), t.currency.as_str(), t.merchant.as_deref()), ("42.00", "EUR", Some("Foo Bar")));
}

// ---- json lines --------------------------------------------------------------------------

#[test]
fn jsonl_lines_and_errors() {
    let input = concat!(
        "{\"id\": \"a\", \"sender\": \"Monzo\", \"text\": \"You spent £8.40 at Pret A Manger. Your balance is now £412.66.\"}\n",
        "not json\n",
        "\n",
        "{\"id\": 7, \"sender\": \"X\", \"text\": \"\"}\n",
        "{\"id\": \"c\", \"text\": \"Your OTP is 123456\"}\n",
        "{\"id\": \"d\", \"sender\": \"X\"}\n",
    );
    let mut out = Vec::new();
    let stats = parse_jsonl(rules(), input.as_bytes(), &mut out).expect("io ok");
    assert_eq!((stats.lines, stats.parsed, stats.transactions, stats.errors), (5, 2, 1, 3));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).expect("utf8").lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["class"], "transaction");
    assert_eq!(lines[0]["parsed"]["amount"], "8.40");
    assert_eq!(lines[0]["parsed"]["currency"], "GBP");
    assert_eq!(lines[0]["parsed"]["kind"], "card");
    assert_eq!(lines[0]["parsed"]["date"], serde_json::Value::Null);
    assert!(lines[1]["error"].as_str().is_some_and(|e| e.contains("line 2")));
    assert_eq!(lines[2]["id"], 7);
    assert!(lines[2]["error"].is_string());
    assert_eq!(lines[3]["class"], "otp");
    assert_eq!(lines[3]["parsed"], serde_json::Value::Null);
    assert_eq!(lines[4]["id"], "d");
    assert!(lines[4]["error"].is_string());
}
