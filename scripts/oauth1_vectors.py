#!/usr/bin/env python3
"""Independent OAuth 1.0a (RFC 5849) signature test vectors, computed with Python's oauthlib.

Usage (from the repository root, or anywhere):

    pip install oauthlib cryptography pyjwt
    python3 scripts/oauth1_vectors.py

The script WRITES tests/data/oauth1_vectors.json itself (path relative to this script) and
prints one summary line to stderr; it prints nothing to stdout. Pass `-` as the only argument
to write the JSON to stdout instead. The output is deterministic: nonces, timestamps and the
RSA key are fixed (RSASSA-PKCS1-v1_5 signatures are deterministic), so rerunning it with the
same oauthlib version reproduces the file byte for byte.

Each vector's `params` are the DECODED oauth_* protocol parameters and form-body parameters;
the query parameters are NOT listed: a signer must read them from `url` itself.
`base_string` and `signature` are computed only with oauthlib's low-level functions
(oauthlib.oauth1.rfc5849.signature: base_string_uri, normalize_parameters,
signature_base_string, sign_hmac_sha1, sign_hmac_sha256, sign_rsa_sha1, sign_plaintext; the
query is decoded with oauthlib.common.urldecode).

Vectors marked "source": "RFC 5849" carry the values printed in the RFC (with Erratum 2550 for
section 3.4.1.1); the script asserts that oauthlib reproduces them.
"""

import json
import os
import sys
import urllib.parse

import oauthlib
from oauthlib.common import urldecode
from oauthlib.oauth1.rfc5849 import signature as sig

# A 2048-bit RSA key generated once (with `cryptography`) and embedded so the vectors are
# reproducible. Test-only: it protects nothing.
RSA_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC/4adoXeFk7ZTL
UDGUKMje4Jlw1KLNNggvsUaZLElbzR1y7j/1zaJVFvtPI9kjI6gnXijUfRS4oKHA
qSs5pSd+6+tlmyH/LEAlKn27t1qvDRMfQ9AFvrgywNva/qR6HA12FK6vJha66Aw1
txwFST2wXy36xvXBzJfu8WTa2APFmGo6+X5ynuoghaj6o0TttMb0QApzYFxaSu41
9mmbnRmR2kOonb87mzLXVk8iszfa9bh+/5Bp4PRkNAOFUGOcz29a6ze7pO0Op0f0
BSMKwHZLl3mSvhBfzH6y1Ae+l0BtFCWbffDayHx9pjHjPxm3dBpNtEiLnaQd7YPw
FqIocf91AgMBAAECggEABfooBlrCTiwOcgTl/nkExNiXPwoIpj7UI3QwwE2+XUM2
8yET0frdXywvmOgDeBJAxzUqLXBWCGhMkZ1TcODBqbT8qLYb6YB94QqBTysngoN0
QImSvdMSltYmIxzCj+E21CJRzLfxhlH7K2MwVsPQzaExY/n1pttSMknHu/91op6O
YoAT93iN3O/10+MeyFI5k9uv8k33uGiLGCyf5raije/oV2J+MCLVG8kxaAqix7Bu
TP+tDI9Vr9K/+FBQK/Eh1VPMbRJJNxEP+y01Bf16cZASRig6E8TVMjAILjmyhnRY
RE+knQv/1SauXOXBWkcmOK6s9XqOykW6NeIu72F0AQKBgQD/MjTnk0P4sRp3Eafi
scnSGkfKsnAZONyTbPsjiyp2OgPzMmt2NJDs0XR9v2K81XkwPzgpKzaP/k+hutVR
Mle7+ZBe2wZP4zmp9E7YW9Ah7JxDowcW71w+lddbliLKzMoNCufEsjMNHGykfQ1V
z5FK/wm5g3v1Qppxs1yjbdX2AQKBgQDAfGO5ObOu2ZcdHPdJeazlqvmXGCnhJcl0
txW5IyCoKXHV6UUV+W6PrfC3VqTVRGjooFaaEGiG/PEixT3BEDSkFjmVvjvjyYUv
nmEvIj31kKMTjHZNZMmp4kWrr9ZdJ4wnJ3OigqsExcrS/Dfg3lsA/GsG5JRDWWj0
kRHr+VKRdQKBgQCLPirNvHXXCVNmapTPRbDYWgyYFdrCeFsqecliMHn/vlIPbZBj
E/WLshG81yOZ42TXpXcQR4ri8KEkntvsDOsAHwDeMOX1ywbYq/wlY5tiF0eAREEH
C52qbHnweDANtcX9bdjeY1klqz/AVJdlHfeqExSMS6jkPu4kYfiHF9QqAQKBgQC5
JWzOt3/sCYPfDwOVeyIhb8nP2gA+fpg+WfTdNbqtxd+nQE+hiWEddtP5pa+7K6g1
SjTC0FGatiZDqbFyyOG5i18sd+Unf6lKWm9kZO1wDQWvQgZw/ycy72DQebwZsnaP
GtWRVVqmppInS098TqT+V82iva8W8SORSxEQB6uyGQKBgCYKsWdfG/SoSX+pYVbY
4ghHeFqnoQ91pTmQontP3D/q57q1IE8flyqqhIhBD04Zl8BFZCplmDkXb/o2DuD1
0JICacc5f7EJiaAG3ycfb55b1gjCRpWz4qBXrrUIyJzZIEyOyZungFXo5MoOS/+S
u94oTLCor3Uf3YcLncdrPzMJ
-----END PRIVATE KEY-----
"""


def rsa_public_key_pem():
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(RSA_PRIVATE_KEY_PEM.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def compute(method, url, params, signature_method, consumer_secret, token_secret):
    """Returns (base_string, signature) as oauthlib computes them."""
    query = urllib.parse.urlsplit(url).query
    collected = list(urldecode(query)) if query else []
    collected += [tuple(kv) for kv in params]
    # RFC 5849 3.4.1.3.1: oauth_signature is excluded whatever its source (as oauthlib's
    # collect_parameters does). The Authorization header's realm is excluded too, but it is
    # never among `params`; a query or form parameter named "realm" is an ordinary parameter.
    collected = [(k, v) for k, v in collected if k != "oauth_signature"]
    normalized = sig.normalize_parameters(collected)
    base_uri = sig.base_string_uri(url)
    base_string = sig.signature_base_string(method, base_uri, normalized)
    if signature_method == "HMAC-SHA1":
        signature = sig.sign_hmac_sha1(base_string, consumer_secret, token_secret)
    elif signature_method == "HMAC-SHA256":
        signature = sig.sign_hmac_sha256(base_string, consumer_secret, token_secret)
    elif signature_method == "RSA-SHA1":
        signature = sig.sign_rsa_sha1(base_string, RSA_PRIVATE_KEY_PEM)
    elif signature_method == "PLAINTEXT":
        signature = sig.sign_plaintext(consumer_secret, token_secret)
    else:
        raise ValueError(signature_method)
    return base_string, signature


VECTORS = []


def oauth(n, signature_method, token="tok-370773112", extra=(), version=True):
    """The oauth_* protocol parameters of vector number n (fixed nonce and timestamp)."""
    p = [
        ["oauth_consumer_key", "ck-actix-oauth"],
        ["oauth_nonce", "n0nce%04d" % n],
        ["oauth_signature_method", signature_method],
        ["oauth_timestamp", str(1700000000 + n)],
    ]
    if version:
        p.append(["oauth_version", "1.0"])
    if token is not None:
        p.append(["oauth_token", token])
    p += [list(kv) for kv in extra]
    return p


def add(name, method, url, signature_method, form=(), consumer_secret="cs-kd94hf93k423kf44",
        token_secret="ts-pfkkdhi9sl3r4s00", token="tok-370773112", extra=(), note=None):
    n = len(VECTORS) + 1
    params = oauth(n, signature_method, token=token, extra=extra) + [list(kv) for kv in form]
    base_string, signature = compute(
        method, url, params, signature_method, consumer_secret, token_secret
    )
    v = {
        "name": name,
        "source": "oauthlib",
        "method": method,
        "url": url,
        "params": params,
        "signature_method": signature_method,
        "consumer_secret": consumer_secret,
        "token_secret": token_secret,
        "base_string": base_string,
        "signature": signature,
    }
    if note:
        v["note"] = note
    VECTORS.append(v)


def add_rfc(name, method, url, params, consumer_secret, token_secret, signature,
            base_string=None, note=None, signature_method="HMAC-SHA1", source="RFC 5849"):
    """A vector whose expected values are published (in RFC 5849 unless `source` says
    otherwise); the script asserts that oauthlib computes the same."""
    got_base, got_sig = compute(method, url, params, signature_method, consumer_secret,
                                token_secret)
    if base_string is not None:
        assert got_base == base_string, (name, got_base, base_string)
    else:
        base_string = got_base
        extra = "base_string computed by oauthlib (not printed in the RFC)"
        if source != "RFC 5849":
            extra = "base_string computed by oauthlib"
        note = extra if note is None else note + "; " + extra
    assert got_sig == signature, (name, got_sig, signature)
    v = {
        "name": name,
        "source": source,
        "method": method,
        "url": url,
        "params": params,
        "signature_method": signature_method,
        "consumer_secret": consumer_secret,
        "token_secret": token_secret,
        "base_string": base_string,
        "signature": signature,
    }
    if note:
        v["note"] = note
    VECTORS.append(v)


RESERVED = "!*'();:@&=+$,/?#[]% ~"

# ---- RFC 5849 ----------------------------------------------------------------------------

add_rfc(
    "rfc5849_3.4.1.1_example",
    "POST",
    "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
    [
        ["oauth_consumer_key", "9djdj82h48djs9d2"],
        ["oauth_token", "kkk9d7dh3k39sjv7"],
        ["oauth_signature_method", "HMAC-SHA1"],
        ["oauth_timestamp", "137131201"],
        ["oauth_nonce", "7d8f3e4a"],
        ["c2", ""],
        ["a3", "2 q"],
    ],
    "j49sk3j29djd",
    "dh893hdasih9",
    "r6/TJjbCOr97/+UU0NsvSne7s5g=",
    base_string=(
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7"
    ),
    note="body 'c2&a3=2+q'; signature per RFC Erratum 2550; realm excluded",
)

add_rfc(
    "rfc5849_1.2_request_token",
    "POST",
    "https://photos.example.net/initiate",
    [
        ["oauth_consumer_key", "dpf43f3p2l4k3l03"],
        ["oauth_signature_method", "HMAC-SHA1"],
        ["oauth_timestamp", "137131200"],
        ["oauth_nonce", "wIjqoS"],
        ["oauth_callback", "http://printer.example.com/ready"],
    ],
    "kd94hf93k423kf44",
    "",
    "74KNZJeDHnMBp0EMJ9ZHt/XKycU=",
    note='realm="Photos" of the Authorization header excluded',
)

add_rfc(
    "rfc5849_1.2_access_token",
    "POST",
    "https://photos.example.net/token",
    [
        ["oauth_consumer_key", "dpf43f3p2l4k3l03"],
        ["oauth_token", "hh5s93j4hdidpola"],
        ["oauth_signature_method", "HMAC-SHA1"],
        ["oauth_timestamp", "137131201"],
        ["oauth_nonce", "walatlh"],
        ["oauth_verifier", "hfdp7dh39dks9884"],
    ],
    "kd94hf93k423kf44",
    "hdhd0244k9j7ao03",
    "gKgrFCywp7rO0OXSjdot/IHF7IU=",
    note='realm="Photos" of the Authorization header excluded',
)

add_rfc(
    "rfc5849_1.2_api_call",
    "GET",
    "http://photos.example.net/photos?file=vacation.jpg&size=original",
    [
        ["oauth_consumer_key", "dpf43f3p2l4k3l03"],
        ["oauth_token", "nnch734d00sl2jdk"],
        ["oauth_signature_method", "HMAC-SHA1"],
        ["oauth_timestamp", "137131202"],
        ["oauth_nonce", "chapoH"],
    ],
    "kd94hf93k423kf44",
    "pfkkdhi9sl3r4s00",
    "MdpQcU8iPSUjWoN/UDMsK2sui9I=",
    note='realm="Photos" of the Authorization header excluded; the RFC prints '
         'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"',
)

add_rfc(
    "rfc5849_2.1_plaintext_temporary_credentials",
    "POST",
    "https://server.example.com/request_temp_credentials",
    [
        ["oauth_consumer_key", "jd83jd92dhsh93js"],
        ["oauth_signature_method", "PLAINTEXT"],
        ["oauth_callback", "http://client.example.net/cb?x=1"],
    ],
    "ja893SD9",
    "",
    "ja893SD9&",
    note='realm="Example" of the Authorization header excluded; the RFC prints '
         'oauth_signature="ja893SD9%26"',
    signature_method="PLAINTEXT",
)

add_rfc(
    "twitter_docs_example",
    "POST",
    "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
    [
        ["oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"],
        ["oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"],
        ["oauth_signature_method", "HMAC-SHA1"],
        ["oauth_timestamp", "1318622958"],
        ["oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"],
        ["oauth_version", "1.0"],
        ["status", "Hello Ladies + Gentlemen, a signed OAuth request!"],
    ],
    "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
    "hCtSmYh+iHYCEqBWrE7C7hYmtUk=",
    note="oauthlib's value equals the signature in Twitter's (X's) OAuth 1.0a developer guide",
    source="oauthlib",
)

# ---- oauthlib: methods -------------------------------------------------------------------

add("get_query_hmac_sha1", "GET", "http://api.example.com/1/statuses?count=5&since_id=12",
    "HMAC-SHA1")
add("post_form_hmac_sha1", "POST", "https://api.example.com/1.1/statuses/update.json",
    "HMAC-SHA1", form=[("status", "Hello Ladies + Gentlemen, a signed OAuth request!")])
add("put_form_hmac_sha256", "PUT", "https://api.example.com/items/42?fields=all",
    "HMAC-SHA256", form=[("title", "new title"), ("done", "true")])
add("delete_hmac_sha256", "DELETE", "https://api.example.com/items/42", "HMAC-SHA256")
add("lowercase_method_post", "post", "https://api.example.com/form", "HMAC-SHA1",
    form=[("x", "1")], note="method given in lower case; the base string uses upper case")
add("lowercase_method_delete_sha256", "delete", "https://api.example.com/items/7?hard=1",
    "HMAC-SHA256")
add("patch_method", "PATCH", "https://api.example.com/items/7", "HMAC-SHA1",
    form=[("state", "closed")])

# ---- reserved characters -----------------------------------------------------------------

add("reserved_chars_in_form_value", "POST", "https://api.example.com/post", "HMAC-SHA1",
    form=[("v", RESERVED)])
add("reserved_chars_in_form_key", "POST", "https://api.example.com/post", "HMAC-SHA256",
    form=[("k" + RESERVED, "value")])
add("reserved_chars_percent_encoded_in_query", "GET",
    "https://api.example.com/search?q=" + urllib.parse.quote(RESERVED, safe="")
    + "&" + urllib.parse.quote(RESERVED, safe="") + "=k", "HMAC-SHA1")
add("sub_delims_raw_in_query", "GET",
    "https://api.example.com/search?x=a:b@c!d*e'f(g)h,i/j?k$l&eq=b=c", "HMAC-SHA1",
    note="raw ':@!*'(),/?$' in the query and an unencoded '=' inside a value")
add("oauth_params_with_reserved_chars", "POST", "https://api.example.com/token", "HMAC-SHA1",
    token="tok/+=&% ~", extra=[("oauth_verifier", "v!*'()é")])

# ---- non-ASCII ---------------------------------------------------------------------------

add("non_ascii_form_values", "POST", "https://api.example.com/post", "HMAC-SHA1",
    form=[("text", "café 日本 😀"), ("名前", "値")])
add("non_ascii_percent_encoded_query", "GET",
    "https://api.example.com/q?city=%E6%97%A5%E6%9C%AC&name=caf%C3%A9&emoji=%F0%9F%98%80",
    "HMAC-SHA256")

# ---- query parsing -----------------------------------------------------------------------

add("plus_vs_percent20_in_query", "GET", "http://api.example.com/q?a=b+c&d=e%20f&g=h%2Bi",
    "HMAC-SHA1", note="'+' in the query is a space (form encoding); %2B is a plus")
add("plus_in_form_value", "POST", "http://api.example.com/q", "HMAC-SHA1",
    form=[("p", "1+1=2"), ("s", "a b")])
add("key_without_equals_in_query", "GET", "http://api.example.com/q?flag&x=1", "HMAC-SHA1",
    note="'flag' without '=' is the parameter flag=\"\"")
add("empty_values", "POST", "http://api.example.com/q?e=&f=", "HMAC-SHA1",
    form=[("empty", ""), ("g", "")])
add("query_empty_pairs_skipped", "GET", "http://api.example.com/q?&&a=1&", "HMAC-SHA1",
    note="empty pairs between '&' are not parameters")
add("percent_encoded_keys_in_query", "GET", "http://api.example.com/q?c%40=x&%7E=y&a%20b=z",
    "HMAC-SHA1")
add("query_and_form_same_pair", "POST", "http://api.example.com/q?a=1&b=2", "HMAC-SHA1",
    form=[("a", "1"), ("b", "3")], note="duplicates from query and body are all kept")

# ---- sorting -----------------------------------------------------------------------------

add("repeated_keys_sorted_by_value", "POST", "http://api.example.com/q?a=3&a=1", "HMAC-SHA1",
    form=[("a", "2"), ("a", "10"), ("a", "")])
add("repeated_keys_sorted_by_encoded_value", "POST", "http://api.example.com/q", "HMAC-SHA256",
    form=[("a", "~"), ("a", "é"), ("a", "A"), ("a", " "), ("a", "z"), ("a", "%")],
    note="values sort by their encoded bytes: %20 < %25 < %C3%A9 < A < z < ~")
add("keys_sort_bytes_vs_text", "POST", "http://api.example.com/q", "HMAC-SHA1",
    form=[("a", "1"), ("A", "2"), ("_", "3"), ("~", "4"), ("Z", "5"), ("ä", "6"), ("0", "7"),
          ("a b", "8"), ("b", "9")],
    note="keys sort by encoded bytes: %C3%A4 < 0 < A < Z < _ < a < a%20b < b < ~")
add("sort_by_name_then_value_not_joined_pair", "POST", "http://api.example.com/q", "HMAC-SHA1",
    form=[("a", "z"), ("a-b", "x"), ("a.b", "w"), ("a0", "v"), ("a b", "u")],
    note="'a' sorts before 'a-b' even though 'a-b=x' < 'a=z' as whole strings")
add("key_prefix_of_other_key", "GET", "http://api.example.com/q?ab=1&a=2&a_=3&a1=4", "HMAC-SHA1")

# ---- base string URI ---------------------------------------------------------------------

add("rfc5849_3.4.1.2_uri_example_1", "GET", "http://EXAMPLE.COM:80/r%20v/X?id=123",
    "HMAC-SHA1", note="base string URI http://example.com/r%20v/X (RFC 5849 3.4.1.2)")
add("rfc5849_3.4.1.2_uri_example_2", "GET", "https://www.example.net:8080/?q=1",
    "HMAC-SHA1", note="base string URI https://www.example.net:8080/ (RFC 5849 3.4.1.2)")
add("non_default_port_8080", "POST", "http://localhost:8080/oauth/request_token",
    "HMAC-SHA1", token=None, token_secret="", extra=[("oauth_callback", "oob")])
add("http_port_80_dropped", "GET", "http://Example.COM:80/r%20b/?b5=%3D%253D&a3=a",
    "HMAC-SHA256")
add("https_port_443_dropped", "GET", "https://api.example.com:443/x?y=z", "HMAC-SHA1")
add("https_on_port_80_kept", "GET", "https://api.example.com:80/x", "HMAC-SHA1",
    note="80 is not the default port of https")
add("http_on_port_443_kept", "GET", "http://api.example.com:443/x", "HMAC-SHA1",
    note="443 is not the default port of http")
add("uppercase_scheme_and_host", "GET", "HTTPS://API.Example.COM/Path/To?Q=V", "HMAC-SHA1",
    note="scheme and host lower-cased; path and query case kept")
add("empty_path_is_slash", "GET", "http://api.example.com?x=1", "HMAC-SHA1")
add("path_with_encoded_chars", "GET", "http://api.example.com/caf%C3%A9/a%2Fb/r%20b/%7Euser",
    "HMAC-SHA1", note="percent-encoded path octets are kept as they are in the URI")
add("path_with_sub_delims", "POST", "http://api.example.com/a+b/c@d/e!f;g=h/~i", "HMAC-SHA1")
add("ipv4_host_with_port", "POST", "http://127.0.0.1:8080/callback", "HMAC-SHA1")
add("ipv6_host_with_port", "GET", "http://[::1]:8443/v1?x=y", "HMAC-SHA1")

# ---- secrets -----------------------------------------------------------------------------

add("two_legged_empty_token_secret", "GET", "https://api.example.com/2legged?x=1",
    "HMAC-SHA1", token=None, token_secret="")
add("two_legged_empty_token_secret_sha256", "POST", "https://api.example.com/2legged",
    "HMAC-SHA256", token=None, token_secret="", form=[("x", "1")])
add("secrets_with_reserved_chars", "GET", "https://api.example.com/s", "HMAC-SHA1",
    consumer_secret="c&s=!*'()% ~", token_secret="t+s/?#[]&")
add("secrets_with_non_ascii", "GET", "https://api.example.com/s", "HMAC-SHA256",
    consumer_secret="sécret日本", token_secret="tök😀")
add("oauth_callback_with_query", "POST", "https://api.example.com/oauth/request_token",
    "HMAC-SHA1", token=None, token_secret="",
    extra=[("oauth_callback", "https://client.example.com/cb?state=a b&x=%41")])

# ---- PLAINTEXT ---------------------------------------------------------------------------

add("plaintext_basic", "POST", "https://api.example.com/oauth/access_token", "PLAINTEXT",
    extra=[("oauth_verifier", "hfdp7dh39dks9884")])
add("plaintext_reserved_and_non_ascii_secrets", "GET", "https://api.example.com/p?x=1",
    "PLAINTEXT", consumer_secret="c&s=!*'()% ~é", token_secret="t+s/日本")
add("plaintext_two_legged", "POST", "https://api.example.com/oauth/request_token",
    "PLAINTEXT", token=None, token_secret="", extra=[("oauth_callback", "oob")])

# ---- RSA-SHA1 ----------------------------------------------------------------------------

add("rsa_sha1_get", "GET", "http://photos.example.net/photos?file=vacation.jpg&size=original",
    "RSA-SHA1", consumer_secret="", token_secret="")
add("rsa_sha1_post_non_ascii_form", "POST", "https://api.example.com:8443/post", "RSA-SHA1",
    form=[("text", "café 日本 😀"), ("r", RESERVED)], consumer_secret="", token_secret="")
add("rsa_sha1_request_token", "post", "https://api.example.com/oauth/request_token",
    "RSA-SHA1", token=None, consumer_secret="", token_secret="",
    extra=[("oauth_callback", "http://localhost:8080/cb")])

# ---- oauth_signature exclusion -----------------------------------------------------------

add("oauth_signature_param_excluded", "POST", "https://api.example.com/verify", "HMAC-SHA1",
    extra=[("oauth_signature", "ignored/+=")],
    note="a given oauth_signature parameter is excluded from the base string (3.4.1.3.1)")
add("oauth_signature_in_query_excluded", "GET",
    "https://api.example.com/verify?x=1&oauth_signature=abc%2B%3D", "HMAC-SHA1",
    note="oauth_signature sent in the query (3.5.3) is excluded as well (3.4.1.3.1)")
add("form_param_named_realm_included", "POST", "https://api.example.com/realm?realm=q",
    "HMAC-SHA1", form=[("realm", "body")],
    note="only the Authorization header's realm is excluded (3.4.1.3.1); a query or "
         "form-body parameter named realm is signed like any other")


def main():
    out = {
        "generator": "oauthlib %s" % oauthlib.__version__,
        "rsa_private_key_pem": RSA_PRIVATE_KEY_PEM,
        "rsa_public_key_pem": rsa_public_key_pem(),
        "vectors": VECTORS,
    }
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "duplicate vector names"
    text = json.dumps(out, ensure_ascii=False, indent=1) + "\n"
    if sys.argv[1:] == ["-"]:
        sys.stdout.write(text)
    else:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                            "oauth1_vectors.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    counts = {}
    for v in VECTORS:
        counts[v["signature_method"]] = counts.get(v["signature_method"], 0) + 1
    print("%d vectors %s" % (len(VECTORS), sorted(counts.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
