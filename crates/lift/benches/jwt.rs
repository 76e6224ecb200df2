//! JWT verification per request with a cached key, next to `jsonwebtoken`'s own `decode` of the
//! same token with the same validation: the difference is Lift's overhead (token extraction
//! from the headers, key choice by `kid`, the principal built from the claims).
//!
//! `cargo bench -p lift --bench jwt`
//!
//! - HS256: one static key (Lift's fast path: no header read of its own);
//! - RS256, ES256: two static keys named by `kid`, so Lift reads the header to choose (the
//!   same path a cached JWKS key takes, minus its read lock).

#![allow(clippy::unwrap_used)] // benches: a failed unwrap is a failed bench
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, Criterion};
use futures_util::FutureExt;
use jsonwebtoken::{encode, DecodingKey, EncodingKey, Header, Validation};
use lift::auth::{Algorithm, JwtVerifier, Key, TokenSource};
use serde_json::{json, Map, Value};

const SECRET: &[u8] = b"an HMAC secret that is long enough for HS512 too, 64 bytes long!";

macro_rules! pem {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/", $name))
    };
}

struct Case {
    name: &'static str,
    token: String,
    decoding: DecodingKey,
    validation: Validation,
    verifier: JwtVerifier,
}

fn claims() -> Value {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    json!({"sub": "user-1", "exp": now + 3600, "iat": now, "scope": "read write", "tenant_id": "acme"})
}

fn validation(alg: Algorithm) -> Validation {
    // What Lift's verifier configures by default.
    let mut v = Validation::new(alg);
    v.leeway = 60;
    v.validate_nbf = true;
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp", "sub"]);
    v
}

fn cases() -> Vec<Case> {
    let header = |alg, kid: Option<&str>| {
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_owned);
        h
    };
    let hs = EncodingKey::from_secret(SECRET).unwrap();
    let rsa = EncodingKey::from_rsa_pem(pem!("rsa1.pem")).unwrap();
    let ec = EncodingKey::from_ec_pem(pem!("ec256-1.pem")).unwrap();
    let decoy_rsa = Key::rsa_pem(pem!("rsa2.pub.pem"), &[Algorithm::RS256])
        .unwrap()
        .with_kid("other");
    let decoy_ec = Key::ec_pem(pem!("ec256-2.pub.pem"), &[Algorithm::ES256])
        .unwrap()
        .with_kid("other");
    vec![
        Case {
            name: "HS256",
            token: encode(&header(Algorithm::HS256, None), &claims(), &hs).unwrap(),
            decoding: DecodingKey::from_secret(SECRET).unwrap(),
            validation: validation(Algorithm::HS256),
            verifier: JwtVerifier::builder()
                .key(Key::hmac(SECRET, &[Algorithm::HS256]).unwrap())
                .build()
                .unwrap(),
        },
        Case {
            name: "RS256",
            token: encode(&header(Algorithm::RS256, Some("k1")), &claims(), &rsa).unwrap(),
            decoding: DecodingKey::from_rsa_pem(pem!("rsa1.pub.pem")).unwrap(),
            validation: validation(Algorithm::RS256),
            verifier: JwtVerifier::builder()
                .key(decoy_rsa)
                .key(
                    Key::rsa_pem(pem!("rsa1.pub.pem"), &[Algorithm::RS256])
                        .unwrap()
                        .with_kid("k1"),
                )
                .build()
                .unwrap(),
        },
        Case {
            name: "ES256",
            token: encode(&header(Algorithm::ES256, Some("k1")), &claims(), &ec).unwrap(),
            decoding: DecodingKey::from_ec_pem(pem!("ec256-1.pub.pem")).unwrap(),
            validation: validation(Algorithm::ES256),
            verifier: JwtVerifier::builder()
                .key(decoy_ec)
                .key(
                    Key::ec_pem(pem!("ec256-1.pub.pem"), &[Algorithm::ES256])
                        .unwrap()
                        .with_kid("k1"),
                )
                .build()
                .unwrap(),
        },
    ]
}

fn bench(c: &mut Criterion) {
    let source = TokenSource::header();
    for case in cases() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer {}", case.token)).unwrap(),
        );
        let mut group = c.benchmark_group(format!("jwt/{}", case.name));
        group.bench_function("jsonwebtoken decode", |b| {
            b.iter(|| {
                let data = jsonwebtoken::decode::<Map<String, Value>>(
                    black_box(&case.token),
                    &case.decoding,
                    &case.validation,
                )
                .unwrap();
                black_box(data.claims)
            })
        });
        group.bench_function("lift extract + verify", |b| {
            b.iter(|| {
                let token = source.extract(black_box(&headers)).unwrap();
                // Static keys never wait: the future is ready on its first poll.
                let principal = case.verifier.verify(token).now_or_never().unwrap().unwrap();
                black_box(principal)
            })
        });
        group.bench_function("lift verify", |b| {
            b.iter(|| {
                black_box(
                    case.verifier
                        .verify(black_box(&case.token))
                        .now_or_never()
                        .unwrap()
                        .unwrap(),
                )
            })
        });
        group.bench_function("lift extract", |b| {
            b.iter(|| black_box(source.extract(black_box(&headers)).unwrap()))
        });
        group.finish();
    }
}

/// Instruction counts on a loaded machine: with `LIFT_JWT_INSTRUCTIONS=<alg>/<impl>/<n>`
/// (`impl`: `jsonwebtoken` or `lift`) the binary runs `n` verifications and exits, for
/// `valgrind --tool=callgrind`; two values of `n` give the cost of one.
fn count_instructions(spec: &str) {
    let mut parts = spec.split('/');
    let (Some(alg), Some(which), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("LIFT_JWT_INSTRUCTIONS=<alg>/<jsonwebtoken|lift>/<n>");
    };
    let n: usize = n.parse().unwrap();
    let case = cases().into_iter().find(|c| c.name == alg).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Bearer {}", case.token)).unwrap(),
    );
    let source = TokenSource::header();
    for _ in 0..n {
        if which == "lift" {
            let token = source.extract(black_box(&headers)).unwrap();
            black_box(case.verifier.verify(token).now_or_never().unwrap().unwrap());
        } else {
            let data =
                jsonwebtoken::decode::<Map<String, Value>>(black_box(&case.token), &case.decoding, &case.validation)
                    .unwrap();
            black_box(data.claims);
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(spec) = std::env::var("LIFT_JWT_INSTRUCTIONS") {
        count_instructions(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
