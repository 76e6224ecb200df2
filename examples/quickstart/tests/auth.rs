//! `GET /me` and the authorizer, black box: the binary as a local server (real sockets, a real
//! loopback key server for JWKS) and on the real `lambda_runtime` loop.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::Server;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use lift_testing::{events, RuntimeApiServer};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

const SECRET: &str = "quickstart test secret, 32+ bytes long";
const INVOCATIONS: &str = "/2015-03-31/functions/function/invocations";

macro_rules! pem {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/lift/tests/fixtures/jwt/",
            $name
        ))
    };
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn claims() -> Value {
    json!({"sub": "user-42", "tenant_id": "acme", "exp": now() + 600, "iss": "https://issuer.test", "aud": "quickstart"})
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn signed(alg: Algorithm, key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = Some(kid.to_owned());
    encode(&h, claims, key).unwrap()
}

/// Status, `WWW-Authenticate` and body of `GET path` with extra header lines.
async fn get(server: &Server, path: &str, headers: &str) -> (u16, Option<String>, Value) {
    let mut s = server.connect().await;
    let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n");
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let challenge = head
        .lines()
        .find_map(|l| l.strip_prefix("www-authenticate: "))
        .map(str::to_owned);
    (status, challenge, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn invoke(server: &Server, event: &Value) -> Value {
    let (status, body) = server.post_json(INVOCATIONS, &event.to_string()).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn me_is_always_401_without_configuration() {
    let server = Server::start(&[], Stdio::null(), Stdio::null()).await;
    let token = hs256(&claims(), SECRET);
    let (status, _, body) = get(&server, "/me", &format!("Authorization: Bearer {token}\r\n")).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = get(&server, "/me", "").await;
    assert_eq!(status, 401);
    // Even an identity API Gateway verified is refused when nothing is configured.
    let mut ev = events::apigw_v2("GET", "/me").build();
    ev["requestContext"]["authorizer"] = json!({"jwt": {"claims": {"sub": "u", "tenant_id": "t"}, "scopes": null}});
    let out = invoke(&server, &ev).await;
    assert_eq!(out["statusCode"], 401, "{out}");
    // And the authorizer denies.
    let out = invoke(
        &server,
        &json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": "arn:aws:execute-api:us-east-1:1:api/prod/GET/me"}),
    )
    .await;
    assert_eq!(out["policyDocument"]["Statement"][0]["Effect"], "Deny", "{out}");
}

#[tokio::test]
async fn me_with_an_hs256_secret_issuer_and_audience() {
    let vars = [
        ("QUICKSTART_JWT_SECRET", SECRET),
        ("QUICKSTART_JWT_ISSUER", "https://issuer.test"),
        ("QUICKSTART_JWT_AUDIENCE", "quickstart"),
    ];
    let server = Server::start(&vars, Stdio::null(), Stdio::null()).await;
    let good = hs256(&claims(), SECRET);
    for header in ["Authorization", "authorization", "AUTHORIZATION"] {
        let (status, _, body) = get(&server, "/me", &format!("{header}: Bearer {good}\r\n")).await;
        assert_eq!(
            (status, &body),
            (200, &json!({"sub": "user-42", "tenant": "acme"})),
            "{header}"
        );
    }
    let mut no_tenant = claims();
    no_tenant.as_object_mut().unwrap().remove("tenant_id");
    let (status, _, body) = get(
        &server,
        "/me",
        &format!("Authorization: Bearer {}\r\n", hs256(&no_tenant, SECRET)),
    )
    .await;
    assert_eq!((status, body), (200, json!({"sub": "user-42", "tenant": null})));

    let mut expired = claims();
    expired["exp"] = json!(now() - 3600);
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("https://other.test");
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("other");
    for (what, token, code) in [
        ("expired", hs256(&expired, SECRET), "expired_token"),
        ("wrong issuer", hs256(&wrong_iss, SECRET), "invalid_issuer"),
        ("wrong audience", hs256(&wrong_aud, SECRET), "invalid_audience"),
        (
            "wrong secret",
            hs256(&claims(), "another secret, also 32+ bytes long"),
            "invalid_signature",
        ),
        ("garbage", "not-a-jwt".to_owned(), "invalid_token"),
    ] {
        let (status, challenge, body) = get(&server, "/me", &format!("Authorization: Bearer {token}\r\n")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some(code)), "{what}");
        assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""), "{what}");
    }
    let (status, challenge, body) = get(&server, "/me", "").await;
    assert_eq!(
        (status, challenge.as_deref(), body["error"]["code"].as_str()),
        (401, Some("Bearer"), Some("missing_token"))
    );
    let big = "a".repeat(9 * 1024);
    let (status, _, body) = get(&server, "/me", &format!("Authorization: Bearer {big}\r\n")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("token_too_large")));

    // Raw events on the emulator path: identities API Gateway verified are accepted.
    let mut ev = events::apigw_v2("GET", "/me").build();
    ev["requestContext"]["authorizer"] =
        json!({"jwt": {"claims": {"sub": "gw-user", "tenant_id": "globex"}, "scopes": null}});
    let out = invoke(&server, &ev).await;
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(out["body"].as_str().unwrap()).unwrap(),
        json!({"sub": "gw-user", "tenant": "globex"})
    );
    let mut ev = events::apigw_v1("GET", "/me").build();
    ev["requestContext"]["authorizer"] = json!({"principalId": "lambda-user", "tenant_id": "initech"});
    let out = invoke(&server, &ev).await;
    assert_eq!(
        serde_json::from_str::<Value>(out["body"].as_str().unwrap()).unwrap(),
        json!({"sub": "lambda-user", "tenant": "initech"})
    );

    // The authorizer: TOKEN, REQUEST (REST), HTTP API 2.0.
    let arn = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/me";
    let out = invoke(
        &server,
        &json!({"type": "TOKEN", "authorizationToken": format!("Bearer {good}"), "methodArn": arn}),
    )
    .await;
    assert_eq!(out["principalId"], "user-42", "{out}");
    assert_eq!(out["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(out["policyDocument"]["Statement"][0]["Resource"], json!([arn]));
    assert_eq!(out["context"]["tenant_id"], "acme");
    let out = invoke(
        &server,
        &json!({"type": "TOKEN", "authorizationToken": "Bearer nope", "methodArn": arn}),
    )
    .await;
    assert_eq!(out["policyDocument"]["Statement"][0]["Effect"], "Deny", "{out}");
    assert!(out.get("context").is_none());

    let request = json!({
        "type": "REQUEST", "methodArn": arn, "resource": "/me", "path": "/me", "httpMethod": "GET",
        "headers": {"Authorization": format!("Bearer {good}")},
        "multiValueHeaders": {"Authorization": [format!("Bearer {good}")]},
        "requestContext": {"path": "/me", "stage": "prod", "httpMethod": "GET", "apiId": "api"}
    });
    let out = invoke(&server, &request).await;
    assert_eq!(
        (out["principalId"].as_str(), out["context"]["tenant_id"].as_str()),
        (Some("user-42"), Some("acme")),
        "{out}"
    );

    let v2 = |auth: &str| {
        json!({
            "version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": [auth],
            "routeKey": "GET /me", "rawPath": "/me", "rawQueryString": "",
            "headers": {"authorization": auth},
            "requestContext": {"http": {"method": "GET", "path": "/me"}, "routeKey": "GET /me", "stage": "$default"}
        })
    };
    let out = invoke(&server, &v2(&format!("Bearer {good}"))).await;
    assert_eq!(out, json!({"isAuthorized": true, "context": {"tenant_id": "acme"}}));
    let out = invoke(&server, &v2("Bearer x.y.z")).await;
    assert_eq!(out, json!({"isAuthorized": false}));
}

/// A loopback JWKS server serving `body` to every request (plain HTTP/1.1 on a real socket,
/// one response per connection).
async fn key_server(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                // Read the request head, then answer and close.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(res.as_bytes()).await;
            });
        }
    });
    url
}

fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, alg).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

#[tokio::test]
async fn me_with_a_jwks_url_takes_rs256_and_es256() {
    let rsa = EncodingKey::from_rsa_pem(pem!("rsa1.pem")).unwrap();
    let ec = EncodingKey::from_ec_pem(pem!("ec256-1.pem")).unwrap();
    let set = JwkSet {
        keys: vec![jwk(&rsa, Algorithm::RS256, "rsa-1"), jwk(&ec, Algorithm::ES256, "ec-1")],
    };
    let url = key_server(serde_json::to_string(&set).unwrap()).await;
    let server = Server::start(&[("QUICKSTART_JWKS_URL", &url)], Stdio::null(), Stdio::null()).await;
    for token in [
        signed(Algorithm::RS256, &rsa, "rsa-1", &claims()),
        signed(Algorithm::ES256, &ec, "ec-1", &claims()),
    ] {
        let (status, _, body) = get(&server, "/me", &format!("Authorization: Bearer {token}\r\n")).await;
        assert_eq!((status, body), (200, json!({"sub": "user-42", "tenant": "acme"})));
    }
    // HS256 is not accepted from a key set, and an unknown kid is refused.
    let (status, _, body) = get(
        &server,
        "/me",
        &format!("Authorization: Bearer {}\r\n", hs256(&claims(), SECRET)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unsupported_algorithm"))
    );
    let stranger = signed(
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(pem!("rsa2.pem")).unwrap(),
        "rsa-2",
        &claims(),
    );
    let (status, _, body) = get(&server, "/me", &format!("Authorization: Bearer {stranger}\r\n")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unknown_key")));
}

#[tokio::test]
async fn a_plain_http_jwks_url_off_loopback_fails_the_start() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("PORT", common::free_port().to_string())
        .env("QUICKSTART_JWKS_URL", "http://idp.example.com/jwks.json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    assert!(format!("{out}{err}").contains("QUICKSTART_JWKS_URL"), "{out}{err}");
}

#[tokio::test]
async fn me_and_the_authorizer_on_the_runtime_api_loop() {
    let api = RuntimeApiServer::start().await.unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("QUICKSTART_JWT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(20);
    let good = hs256(&claims(), SECRET);

    let ev = events::apigw_v2("GET", "/me")
        .header("Authorization", &format!("Bearer {good}"))
        .build();
    let out = api.invoke(ev.to_string()).outcome(limit).await.json().unwrap();
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(out["body"].as_str().unwrap()).unwrap(),
        json!({"sub": "user-42", "tenant": "acme"})
    );

    let ev = events::apigw_v1("GET", "/me")
        .header("authorization", "Bearer forged.token.here")
        .build();
    let out = api.invoke(ev.to_string()).outcome(limit).await.json().unwrap();
    assert_eq!(out["statusCode"], 401, "{out}");

    let arn = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/me";
    let token_event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {good}"), "methodArn": arn});
    let out = api.invoke(token_event.to_string()).outcome(limit).await.json().unwrap();
    assert_eq!(
        (out["principalId"].as_str(), out["context"]["tenant_id"].as_str()),
        (Some("user-42"), Some("acme")),
        "{out}"
    );

    let v2 = json!({
        "version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": [format!("Bearer {good}")],
        "headers": {"authorization": format!("Bearer {good}")},
        "requestContext": {"http": {"method": "GET", "path": "/me"}}
    });
    let out = api.invoke(v2.to_string()).outcome(limit).await.json().unwrap();
    assert_eq!(out, json!({"isAuthorized": true, "context": {"tenant_id": "acme"}}));
    child.kill().await.unwrap();
}
