#!/usr/bin/env python3
"""Makes the JWKS the id_token fuzz targets trust (fuzz/id_token_jwks.json) and the seed tokens
signed by its keys (fuzz/corpus/{id_token,id_token_claims,jwt_header}/).

The private keys live only while this runs: running it again makes new keys, a new JWKS and new
seeds together. Needs Python's `cryptography` package.
"""
import base64
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://accounts.example.com"
CLIENT = "fuzz-client"
NONCE = "n-0S6_WzA2Mj"
HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_key = ec.generate_private_key(ec.SECP256R1())
ed_key = ed25519.Ed25519PrivateKey.generate()
rsa_pub = rsa_key.public_key().public_numbers()
ec_pub = ec_key.public_key().public_numbers()
ed_pub = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
jwks = {
    "keys": [
        {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": uint(rsa_pub.n), "e": uint(rsa_pub.e)},
        {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
         "x": b64(ec_pub.x.to_bytes(32, "big")), "y": b64(ec_pub.y.to_bytes(32, "big"))},
        {"kty": "OKP", "kid": "ed-1", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": b64(ed_pub)},
    ]
}


def sign(header: dict, claims: dict) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}".encode()
    alg = header.get("alg")
    if alg == "RS256":
        sig = rsa_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = rsa_key.sign(signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(ec_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "EdDSA":
        sig = ed_key.sign(signing_input)
    else:  # "none", HS256 …: a signature no key of the JWKS makes
        sig = b"" if alg == "none" else b"\x00" * 32
    return f"{signing_input.decode()}.{b64(sig)}"


good = {
    "iss": ISSUER, "sub": "110169484474386276334", "aud": CLIENT, "exp": 4102444800,
    "iat": 1700000000, "nonce": NONCE, "email": "jane@example.com", "email_verified": True,
    "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q", "name": "Jane Doe",
}
tokens = {
    "rs256": sign({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}, good),
    "ps256": sign({"alg": "PS256", "kid": "rsa-1"}, good),
    "es256": sign({"alg": "ES256", "kid": "ec-1"}, good),
    "eddsa": sign({"alg": "EdDSA", "kid": "ed-1"}, good),
    "no_kid": sign({"alg": "ES256"}, good),
    "multi_aud_azp": sign({"alg": "RS256", "kid": "rsa-1"}, {**good, "aud": [CLIENT, "other"], "azp": CLIENT}),
    "expired": sign({"alg": "RS256", "kid": "rsa-1"}, {**good, "exp": 1700000300}),
    "future_iat": sign({"alg": "RS256", "kid": "rsa-1"}, {**good, "iat": 4102444000}),
    "other_audience": sign({"alg": "RS256", "kid": "rsa-1"}, {**good, "aud": "someone-else"}),
    "other_issuer": sign({"alg": "RS256", "kid": "rsa-1"}, {**good, "iss": "https://evil.example"}),
    "other_nonce": sign({"alg": "RS256", "kid": "rsa-1"}, {**good, "nonce": "replayed"}),
    "no_sub": sign({"alg": "ES256", "kid": "ec-1"}, {k: v for k, v in good.items() if k != "sub"}),
    "alg_none": sign({"alg": "none"}, good),
    "hs256": sign({"alg": "HS256", "kid": "rsa-1"}, good),
    "unknown_kid": sign({"alg": "RS256", "kid": "rotated-away"}, good),
    "kid_alg_mismatch": sign({"alg": "ES256", "kid": "rsa-1"}, good),
}

with open(os.path.join(HERE, "id_token_jwks.json"), "w") as f:
    json.dump(jwks, f, indent=2)
    f.write("\n")


def write(target: str, name: str, text: str) -> None:
    os.makedirs(os.path.join(HERE, "corpus", target), exist_ok=True)
    with open(os.path.join(HERE, "corpus", target, name), "w") as f:
        f.write(text)


for name, token in tokens.items():
    write("id_token", name, f"{NONCE}\n{token}")
    write("jwt_header", name, token)
write("id_token", "rs256_without_nonce", f"\n{tokens['rs256']}")
write("jwt_header", "garbage", "eyJhbGciOiJSUzI1NiJ9.e30")
claims = {
    "google": good,
    "microsoft": {**good, "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "ver": "2.0", "oid": "00000000-0000-0000-66f3-3332eca7ea81"},
    "multi_aud_no_azp": {**good, "aud": [CLIENT, "other"]},
    "wrong_azp": {**good, "azp": "other"},
    "float_iat": {**good, "iat": 1.7e9},
    "string_iat": {**good, "iat": "1700000000"},
    "empty_sub": {**good, "sub": ""},
    "no_nonce": {k: v for k, v in good.items() if k != "nonce"},
}
for name, value in claims.items():
    write("id_token_claims", name, f"{NONCE}\n{json.dumps(value)}")
write("id_token_claims", "not_an_object", f"{NONCE}\n[1,2,3]")
