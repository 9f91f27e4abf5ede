#!/usr/bin/env python3
"""Writes the MIME fixture corpus: tests/mime/corpus/NAME.eml and NAME.expect.json.

Each fixture is raw bytes written here by hand (or built with a few lines of Python) and the
values a correct parser must produce, stated by hand. Expected files hold a *subset* of the
`casemail parse --json` document; see test_corpus.py for the matching rules ($contains,
defects_include, ...). Run this script to regenerate after adding a fixture; the generated
files are committed so the corpus can be read without running anything.
"""
import base64
import hashlib
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")
FIXTURES = []


def fixture(name, raw, expect):
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    FIXTURES.append((name, raw, expect))


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def sha(b):
    return hashlib.sha256(b).hexdigest()


def b64(b, width=76):
    s = base64.b64encode(b).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


HDR = "From: Ann Lee <ann@example.org>\nTo: 311PublicWorks@city.example\nMessage-ID: <{id}@example.org>\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n"


def simple(name, extra_headers, body="Hello.\n", ctype="text/plain; charset=utf-8", cte=None):
    h = HDR.format(id=name) + extra_headers + "MIME-Version: 1.0\nContent-Type: " + ctype + "\n"
    if cte:
        h += "Content-Transfer-Encoding: " + cte + "\n"
    return crlf(h + "\n" + body)


# ---------------------------------------------------------------- identifiers and dates
fixture("basic_plain", crlf(
    'From: "Lee, Ann" <Ann.Lee@Example.org>\nTo: 311PublicWorks@city.example\n'
    "Subject: Pothole on Main St\nMessage-ID: <abc123@example.org>\n"
    "Date: Tue, 3 Nov 2026 10:00:00 -0500\nMIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n\nThere is a pothole outside 1200 Main St.\n"),
    {"message_id": "abc123@example.org", "subject": "Pothole on Main St",
     "date": "2026-11-03T15:00:00Z",
     "from": [{"name": "Lee, Ann", "address": "Ann.Lee@Example.org"}],
     "to": [{"name": "", "address": "311PublicWorks@city.example"}],
     "text": "There is a pothole outside 1200 Main St.\n", "html": "", "attachments": [],
     "flags": {"auto_reply": False, "bulk": False, "bounce": False}, "defects": []})

fixture("msgid_bare", crlf("From: a@example.org\nMessage-ID: bare-id-77@mailer.example\nSubject: x\n\nbody\n"),
        {"message_id": "bare-id-77@mailer.example"})

fixture("references_chain", crlf(
    "From: a@example.org\nSubject: Re: Re: leak\nMessage-ID: <r3@example.org>\n"
    "In-Reply-To: <r2@city.example>\nReferences: <r0@example.org>\n <r1@city.example>\n\t<r2@city.example>\n\nok\n"),
    {"in_reply_to": ["r2@city.example"], "references": ["r0@example.org", "r1@city.example", "r2@city.example"]})

fixture("references_commas_and_comments", crlf(
    "From: a@example.org\nSubject: x\nIn-Reply-To: <p1@example.org> (Ann's message of Monday)\n"
    "References: <p0@example.org>,<p1@example.org>\n\nok\n"),
    {"in_reply_to": ["p1@example.org"], "references": ["p0@example.org", "p1@example.org"]})

fixture("no_message_id", crlf("From: a@example.org\nSubject: no id\n\nbody\n"),
        {"message_id": "", "subject": "no id", "text": "body\n"})

fixture("date_obsolete_two_digit_year", crlf("From: a@example.org\nDate: 3 Nov 26 10:00 EST\nSubject: x\n\nb\n"),
        {"date": "2026-11-03T15:00:00Z"})

fixture("date_with_comment_and_no_dayname", crlf(
    "From: a@example.org\nDate: 03 Nov 2026 23:59:59 +0100 (CET)\nSubject: x\n\nb\n"),
    {"date": "2026-11-03T22:59:59Z"})

fixture("date_garbage", crlf("From: a@example.org\nDate: sometime last week\nSubject: x\n\nb\n"),
        {"date": None, "defects_include": ["unreadable Date"]})

# ---------------------------------------------------------------- subjects (RFC 2047)
fixture("subject_q_latin1", simple("sq", "Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me_on_the_sidewalk?=\n"),
        {"subject": "Café crème on the sidewalk", "defects": []})

fixture("subject_b_utf8", simple("sb", "Subject: =?utf-8?B?8J+aqCBTdHJlZXRsaWdodCBvdXQ=?=\n"),
        {"subject": "\U0001F6A8 Streetlight out"})

# "Größe" split inside the multi-byte "ö": the bytes of both words must be joined first.
w = "Größe".encode("utf-8")
fixture("subject_split_multibyte", simple("ss", "Subject: =?utf-8?B?%s?=\n =?utf-8?B?%s?=\n" % (
    base64.b64encode(w[:3]).decode(), base64.b64encode(w[3:]).decode())),
    {"subject": "Größe", "defects": []})

fixture("subject_adjacent_words_folded", simple("sa",
        "Subject: =?utf-8?Q?Missed_trash?=\n =?utf-8?Q?_pickup_on?=\n\t=?utf-8?Q?_Elm_St?=\n"),
        {"subject": "Missed trash pickup on Elm St"})

fixture("subject_plain_and_encoded", simple("spe", "Subject: Re: =?utf-8?Q?Stra=C3=9Fe?= blocked\n"),
        {"subject": "Re: Straße blocked"})

fixture("subject_gb2312", simple("sgb", "Subject: =?gb2312?B?%s?=\n" % base64.b64encode("路灯坏了".encode("gb2312")).decode()),
        {"subject": "路灯坏了"})

fixture("subject_koi8r", simple("skoi", "Subject: =?koi8-r?B?%s?=\n" % base64.b64encode("Яма на дороге".encode("koi8-r")).decode()),
        {"subject": "Яма на дороге"})

fixture("subject_iso2022jp", simple("sjis", "Subject: =?ISO-2022-JP?B?%s?=\n" % base64.b64encode("道路の穴".encode("iso-2022-jp")).decode()),
        {"subject": "道路の穴"})

fixture("subject_raw_8bit_latin1", crlf("From: a@example.org\nSubject: Caf").encode() + b"\xe9" + crlf(" closed\n\nb\n").encode(),
        {"subject": "Café closed", "defects_include": ["8-bit header text"]})

fixture("subject_raw_utf8", crlf("From: a@example.org\nSubject: Café ouvert 🚧\n\nb\n"),
        {"subject": "Café ouvert 🚧", "defects": []})

fixture("subject_malformed_encoded_word", simple("smal", "Subject: =?utf-8?X?abc?= and =?broken\n"),
        {"subject": "=?utf-8?X?abc?= and =?broken"})

fixture("subject_unknown_charset_word", simple("sunk", "Subject: =?x-klingon?Q?Qapla=E9?=\n"),
        {"subject": "Qaplaé", "defects_include": ["x-klingon"]})

fixture("subject_8bit_uses_body_charset", crlf(
    "From: a@example.org\nMIME-Version: 1.0\nContent-Type: text/plain; charset=koi8-r\nSubject: ").encode()
    + "Привет".encode("koi8-r") + crlf("\n\n").encode() + "Привет".encode("koi8-r") + b"\r\n",
    {"subject": "Привет", "text": "Привет\n", "defects_include": ["8-bit header text"]})

# ---------------------------------------------------------------- addresses
fixture("addr_quoted_comma_and_comment", crlf(
    'From: "Smith, John (Ward 3)" <john@example.org>\nTo: bob@example.net (Bob Jones), carol@example.net\n'
    "Cc: \"O'Neil, Pat\" <pat@example.net>, \"Team\" <team@city.example>\nSubject: x\n\nb\n"),
    {"from": [{"name": "Smith, John (Ward 3)", "address": "john@example.org"}],
     "to": [{"name": "Bob Jones", "address": "bob@example.net"}, {"name": "", "address": "carol@example.net"}],
     "cc": [{"name": "O'Neil, Pat", "address": "pat@example.net"}, {"name": "Team", "address": "team@city.example"}]})

fixture("addr_group_undisclosed", crlf("From: a@example.org\nTo: Undisclosed recipients:;\nBcc: x@example.org\nSubject: x\n\nb\n"),
        {"to": [], "bcc": [{"name": "", "address": "x@example.org"}], "defects": []})

fixture("addr_group_with_members", crlf(
    "From: a@example.org\nTo: Council: Ann <ann@city.example>, bo@city.example;, zed@example.org\nSubject: x\n\nb\n"),
    {"to": [{"name": "Ann", "address": "ann@city.example"}, {"name": "", "address": "bo@city.example"},
            {"name": "", "address": "zed@example.org"}]})

fixture("addr_obsolete_route", crlf("From: Old Mailer <@relay1.example,@relay2.example:old@example.org>\nSubject: x\n\nb\n"),
        {"from": [{"name": "Old Mailer", "address": "old@example.org"}]})

fixture("addr_idn_domain", crlf("From: Jürgen <jürgen@bücher.example>\nTo: info@xn--bcher-kva.example\nSubject: x\n\nb\n"),
        {"from": [{"name": "Jürgen", "address": "jürgen@bücher.example"}],
         "to": [{"name": "", "address": "info@xn--bcher-kva.example"}], "defects": []})

fixture("addr_garbage", crlf("From: a@example.org\nTo: John Smith, real@example.org, @@@\nSubject: x\n\nb\n"),
        {"to": [{"name": "", "address": "real@example.org"}], "defects_include": ["unparseable address: John Smith"]})

fixture("addr_encoded_display_name", crlf(
    "From: =?utf-8?Q?Fran=C3=A7oise_L=C3=A9vesque?= <fl@example.fr>\nTo: =?iso-8859-1?Q?M=FCller?= <m@example.de>\nSubject: x\n\nb\n"),
    {"from": [{"name": "Françoise Lévesque", "address": "fl@example.fr"}],
     "to": [{"name": "Müller", "address": "m@example.de"}]})

fixture("addr_multiple_to_headers", crlf("From: a@example.org\nTo: one@example.org\nTo: two@example.org\nSubject: x\n\nb\n"),
        {"to": [{"name": "", "address": "one@example.org"}, {"name": "", "address": "two@example.org"}]})

fixture("addr_folded_list", crlf("From: a@example.org\nTo: one@example.org,\n two@example.org,\n\t\"Three\" <three@example.org>\nSubject: x\n\nb\n"),
        {"to": [{"name": "", "address": "one@example.org"}, {"name": "", "address": "two@example.org"},
                {"name": "Three", "address": "three@example.org"}]})

fixture("addr_reply_to_and_sender", crlf(
    "From: Mayor <mayor@city.example>\nSender: Assistant <asst@city.example>\nReply-To: Desk <desk@city.example>\nSubject: x\n\nb\n"),
    {"sender": [{"name": "Assistant", "address": "asst@city.example"}],
     "reply_to": [{"name": "Desk", "address": "desk@city.example"}]})

fixture("addr_comma_inside_encoded_word", crlf(
    'From: a@example.org\nTo: "Ann" <ann@city.example>\n =?utf-8?q?=2C?= =?utf-8?b?5bGx55SwIOWkqumDjg==?= <yamada@city.example>\nSubject: x\n\nb\n'),
    {"to": [{"name": "Ann", "address": "ann@city.example"}, {"name": "山田 太郎", "address": "yamada@city.example"}],
     "defects_include": ["missing comma between addresses"]})

# Found by the fuzzer: a raw 8-bit byte inside an angle address.
fixture("addr_8bit_byte_in_address", crlf("From: a@example.org\nTo: one@example.org,\n \"Three\" <three").encode()
        + b"\xbd" + crlf("example.org>\nSubject: x\n\nb\n").encode(),
        {"to": [{"name": "", "address": "one@example.org"}], "defects_include": ["unparseable address: three\ufffdexample.org"]})

fixture("addr_quoted_local_part", crlf('From: "john smith"@example.org\nSubject: x\n\nb\n'),
        {"from": [{"name": "", "address": '"john smith"@example.org'}]})

# ---------------------------------------------------------------- bodies and charsets
fixture("body_quoted_printable", simple("qp", "Subject: qp\n",
        "La rue est bloqu=C3=A9e depuis lundi, merci de v=C3=A9rifier. Une ligne tr=\n=C3=A8s longue.\n",
        cte="quoted-printable"),
        {"text": "La rue est bloquée depuis lundi, merci de vérifier. Une ligne très longue.\n"})

fixture("body_base64_latin1", simple("b64l", "Subject: b64\n", b64("Überschwemmung im Keller.\n".encode("latin-1")) + "\n",
        ctype="text/plain; charset=iso-8859-1", cte="base64"),
        {"text": "Überschwemmung im Keller.\n", "defects": []})

fixture("body_8bit_windows1252", crlf("From: a@example.org\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n").encode()
        + "“Quoted” – €5 fine\r\n".encode("cp1252"),
        {"text": "“Quoted” – €5 fine\n"})

fixture("body_utf16", simple("u16", "Subject: u16\n", b64("Hello from UTF-16\n".encode("utf-16")) + "\n",
        ctype="text/plain; charset=utf-16", cte="base64"),
        {"text": "Hello from UTF-16\n"})

fixture("body_big5", simple("big5", "Subject: big5\n", b64("水管破裂\n".encode("big5")) + "\n",
        ctype="text/plain; charset=big5", cte="base64"),
        {"text": "水管破裂\n"})

fixture("body_euc_jp", simple("eucjp", "Subject: eucjp\n", b64("ごみ収集\n".encode("euc-jp")) + "\n",
        ctype="text/plain; charset=euc-jp", cte="base64"),
        {"text": "ごみ収集\n"})

fixture("body_shift_jis", simple("sjisb", "Subject: sjis\n", b64("騒音の苦情\n".encode("shift_jis")) + "\n",
        ctype="text/plain; charset=shift_jis", cte="base64"),
        {"text": "騒音の苦情\n"})

fixture("body_lying_utf8", crlf("From: a@example.org\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n").encode()
        + b"caf\xe9 au lait\r\n",
        {"text": "caf\ufffd au lait\n", "defects_include": ["invalid UTF-8"]})

fixture("body_unknown_charset_latin1_bytes", crlf("From: a@example.org\nSubject: x\nContent-Type: text/plain; charset=x-mystery\n\n").encode()
        + b"na\xefve\r\n",
        {"text": "naïve\n", "defects_include": ["x-mystery"]})

fixture("body_no_charset_8bit", crlf("From: a@example.org\nSubject: x\n\n").encode() + "ünïcode\r\n".encode("utf-8"),
        {"text": "ünïcode\n", "defects_include": ["without a charset taken as UTF-8"]})

HTML = ("<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<p>Dear 311,</p><p>The <b>streetlight</b> at Elm&nbsp;&amp;&nbsp;5th is out &mdash; since Monday.<br>"
        "Thanks<br>Ann</p><script>alert('x')</script><ul><li>one</li><li>two</li></ul></body></html>")
fixture("body_html_only", simple("html", "Subject: html\n", HTML + "\n", ctype="text/html; charset=utf-8"),
        {"text": "Dear 311,\n\nThe streetlight at Elm & 5th is out — since Monday.\nThanks\nAnn\n\n- one\n- two",
         "html": {"$contains": "<script>"}})

# Found by the fuzzer: a bare '&' in HTML made html_to_text loop forever.
fixture("body_html_bare_ampersand", simple("amp", "Subject: amp\n", "<p>AT&T cut the cable &amp; left</p>\n", ctype="text/html; charset=utf-8"),
        {"text": "AT&T cut the cable & left"})

fixture("body_alternative", crlf(HDR.format(id="alt") + "Subject: alt\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="b1"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n'
        "Plain version\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <i>version</i></p>\n--b1--\n"),
        {"text": "Plain version", "html": "<p>HTML <i>version</i></p>", "attachments": [], "defects": []})

png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
fixture("body_related_inline_image", crlf(HDR.format(id="rel") + "Subject: photo\nMIME-Version: 1.0\n"
        'Content-Type: multipart/related; boundary="rel"\n\n--rel\nContent-Type: text/html; charset=utf-8\n\n'
        '<p>See photo <img src="cid:img1@x"></p>\n--rel\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n'
        "Content-ID: <img1@x>\n\n" + b64(png) + "\n--rel--\n"),
        {"text": "See photo", "attachments": [{"filename": "", "content_type": "image/png", "size": len(png),
                                               "sha256": sha(png), "inline": True, "content_id": "img1@x"}]})

fixture("body_invalid_base64", simple("badb64", "Subject: bad\n", "SGVsbG8g!!d29y#bGQ=\n", cte="base64"),
        {"text": "Hello world", "defects_include": ["invalid characters in base64"]})

fixture("body_binary_cte", crlf("From: a@example.org\nSubject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: binary\n\n").encode()
        + "binary body ✓\r\n".encode(),
        {"text": "binary body ✓\n"})

fixture("body_bare_lf", "From: a@example.org\nSubject: bare lf\nMessage-ID: <lf@example.org>\n\nline one\nline two\n",
        {"subject": "bare lf", "message_id": "lf@example.org", "text": "line one\nline two\n",
         "defects_include": ["bare LF"]})

fixture("body_headers_only", "From: a@example.org\r\nSubject: only headers",
        {"subject": "only headers", "text": "", "defects_include": ["no body"]})

fixture("body_unknown_cte", simple("ucte", "Subject: x\n", "payload\n", cte="x-custom"),
        {"text": "payload\n", "defects_include": ["unknown Content-Transfer-Encoding"]})

# Found by the fuzzer: an 8-bit Content-Transfer-Encoding value reached a defect as raw bytes.
fixture("body_8bit_transfer_encoding_name", crlf("From: a@example.org\nSubject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8").encode()
        + b"\xb8" + crlf("b\n\nbody\n").encode(),
        {"text": "body\n", "defects_include": ["unknown Content-Transfer-Encoding '8\ufffdb'"]})

fixture("body_mixed_two_text_parts", crlf(HDR.format(id="two") + "Subject: two\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\nFirst part\n--m\n'
        "Content-Type: text/plain\n\nSecond part\n--m--\n"),
        {"text": "First part\n\nSecond part"})

# ---------------------------------------------------------------- attachments
pdf = b"%PDF-1.4\n" + os.urandom(0) + b"x" * 3000 + b"\n%%EOF\n"
fixture("att_pdf_base64", crlf(HDR.format(id="pdf") + "Subject: records request\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="=_mix"\n\nThis is a multi-part message.\n--=_mix\n'
        "Content-Type: text/plain; charset=utf-8\n\nPlease see the attached form.\n--=_mix\n"
        'Content-Type: application/pdf; name="form.pdf"\nContent-Disposition: attachment; filename="form.pdf"\n'
        "Content-Transfer-Encoding: base64\n\n" + b64(pdf) + "\n--=_mix--\n"),
        {"text": "Please see the attached form.", "attachments": [
            {"filename": "form.pdf", "content_type": "application/pdf", "size": len(pdf), "sha256": sha(pdf),
             "inline": False, "content_id": ""}], "defects": []})

fixture("att_rfc2231_filename", crlf(HDR.format(id="r2231") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n'
        "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename*=utf-8''Re%CC%81sume%CC%81%20%E2%82%AC.txt\n"
        "\nabc\n--b--\n"),
        {"attachments": [{"filename": "Re\u0301sume\u0301 €.txt", "size": 3}]})

fixture("att_rfc2231_continuations", crlf(HDR.format(id="cont") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n'
        "Content-Type: application/octet-stream\nContent-Disposition: attachment;\n filename*0*=iso-8859-1'fr'd%E9claration;\n"
        " filename*1*=%20des%20imp%F4ts;\n filename*2=\".pdf\"\n\nabc\n--b--\n"),
        {"attachments": [{"filename": "déclaration des impôts.pdf"}]})

fixture("att_rfc2047_in_name", crlf(HDR.format(id="r2047") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n'
        'Content-Type: image/jpeg; name="=?utf-8?B?' + base64.b64encode("фото ямы.jpg".encode()).decode() + '?="\n'
        "Content-Transfer-Encoding: base64\n\n" + b64(b"\xff\xd8\xff\xe0JPEG") + "\n--b--\n"),
        {"attachments": [{"filename": "фото ямы.jpg", "content_type": "image/jpeg", "size": 8}]})

fixture("att_nested_rfc822", crlf(HDR.format(id="fwd") + "Subject: Fwd: complaint\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="outer"\n\n--outer\nContent-Type: text/plain\n\nForwarding this.\n'
        "--outer\nContent-Type: message/rfc822\n\nFrom: neighbour@example.com\nSubject: =?utf-8?Q?Noise_compl=C3=A4int?=\n"
        "Message-ID: <inner@example.com>\n\nIt is loud. Token 311-000001-ABCD in here.\n--outer--\n"),
        {"text": "Forwarding this.", "message_id": "fwd@example.org",
         "attachments": [{"content_type": "message/rfc822", "nested_subject": "Noise compläint",
                          "filename": "Noise compläint.eml"}]})

# Found by the fuzzer: a raw 8-bit byte in a name= parameter gave a non-UTF-8 filename.
fixture("att_8bit_filename", crlf(HDR.format(id="f8") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n'
        'Content-Type: application/pdf; name="r').encode() + b"\xe9" + crlf('sum\xe9.pdf"\n\n%PDF\n--b--\n'.replace("\xe9", "")).encode(),
        {"attachments": [{"filename": "résum.pdf"}], "defects_include": ["8-bit header text"]})

fixture("att_tnef_winmail", crlf(HDR.format(id="tnef") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n'
        'Content-Type: application/ms-tnef; name="winmail.dat"\nContent-Disposition: attachment; filename="winmail.dat"\n'
        "Content-Transfer-Encoding: base64\n\n" + b64(b"\x78\x9f\x3e\x22" + b"\0" * 40) + "\n--b--\n"),
        {"attachments": [{"filename": "winmail.dat", "tnef": True, "size": 44}], "defects_include": ["TNEF"]})

fixture("att_executable", crlf(HDR.format(id="exe") + "Subject: invoice\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nopen it\n--b\n'
        'Content-Type: application/x-msdownload; name="invoice.exe"\nContent-Transfer-Encoding: base64\n\n'
        + b64(b"MZ\x90\x00" * 10) + "\n--b--\n"),
        {"attachments": [{"filename": "invoice.exe", "content_type": "application/x-msdownload", "size": 40}]})

fixture("att_text_attachment_not_body", crlf(HDR.format(id="txtatt") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nbody text\n--b\n'
        'Content-Type: text/plain; name="log.txt"\nContent-Disposition: attachment\n\nlog line\n--b--\n'),
        {"text": "body text", "attachments": [{"filename": "log.txt", "content_type": "text/plain", "size": 8}]})

fixture("att_inline_disposition_pdf", crlf(HDR.format(id="inl") + "Subject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n'
        'Content-Type: application/pdf\nContent-Disposition: inline; filename=map.pdf\n\n%PDF\n--b--\n'),
        {"attachments": [{"filename": "map.pdf", "inline": True}]})

# ---------------------------------------------------------------- flags
fixture("flag_auto_submitted", simple("as", "Subject: Out of office\nAuto-Submitted: auto-replied\n"),
        {"flags": {"auto_reply": "Auto-Submitted: auto-replied", "bulk": False, "bounce": False}})
fixture("flag_auto_submitted_no", simple("asno", "Subject: human\nAuto-Submitted: no\n"),
        {"flags": {"auto_reply": False, "bulk": False, "bounce": False}})
fixture("flag_x_autoreply", simple("xar", "Subject: away\nX-Autoreply: yes\n"),
        {"flags": {"auto_reply": "X-Autoreply: yes"}})
fixture("flag_x_autorespond", simple("xars", "Subject: away\nX-Autorespond: 1\n"),
        {"flags": {"auto_reply": "X-Autorespond: 1"}})
fixture("flag_precedence_auto_reply", simple("par", "Subject: away\nPrecedence: auto_reply\n"),
        {"flags": {"auto_reply": "Precedence: auto_reply", "bulk": False}})
fixture("flag_precedence_bulk", simple("pb", "Subject: newsletter\nPrecedence: bulk\n"),
        {"flags": {"bulk": "Precedence: bulk", "auto_reply": False}})
fixture("flag_list_id", simple("lid", "Subject: [list] hi\nList-Id: Neighbours <hood.lists.example>\n"),
        {"flags": {"bulk": "List-Id: Neighbours <hood.lists.example>"}})
fixture("flag_bounce_dsn", crlf("From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: 311DWP@city.example\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\n\n--dsn\nContent-Type: text/plain\n\n'
        "The mail could not be delivered.\n--dsn\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n--dsn--\n"),
        {"flags": {"bounce": "Content-Type: multipart/report; report-type=delivery-status"},
         "text": "The mail could not be delivered."})
fixture("flag_bounce_postmaster_sender", simple("pm", "Subject: x\n").replace("From: Ann Lee <ann@example.org>", "From: postmaster@example.org"),
        {"flags": {"bounce": "From: postmaster@example.org"}})
fixture("flag_return_path_empty", crlf("Return-Path: <>\nFrom: a@example.org\nSubject: x\n\nb\n"),
        {"flags": {"bounce": "Return-Path: <>"}})

# ---------------------------------------------------------------- tracking
fixture("tracking_header", simple("trk", "Subject: Re: your request\nX-311-Case: 311-000042-K7QX\n"),
        {"tracking": "311-000042-K7QX"})

# ---------------------------------------------------------------- malformed input
fixture("mbox_from_line", crlf("From ann@example.org Tue Nov  3 10:00:00 2026\nFrom: ann@example.org\nSubject: mbox\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nfrom mbox\n--b--\n"),
        {"subject": "mbox", "text": "from mbox", "defects_include": ["mbox"]})

fixture("missing_final_boundary", crlf(HDR.format(id="mfb") + "Subject: cut\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\ncut short\n--b\n'
        'Content-Type: application/pdf; name="a.pdf"\n\n%PDF-partial\n'),
        {"text": "cut short", "attachments": [{"filename": "a.pdf"}], "defects_include": ["missing final MIME boundary"]})

fixture("boundary_never_found", crlf(HDR.format(id="bnf") + "Subject: nobound\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="never"\n\nJust some text, no parts at all.\n'),
        {"text": "Just some text, no parts at all.\n", "defects_include": ["boundary never found"]})

fixture("nul_bytes", crlf("From: a@example.org\nSubject: nul\n\n").encode() + b"before\x00after\r\n",
        {"subject": "nul", "defects_include": ["NUL bytes"]})

fixture("content_type_garbage", simple("ctg", "Subject: x\n", "still text\n", ctype="garbage;;;=="),
        {"text": "still text\n", "defects_include": ["malformed Content-Type"]})

fixture("header_without_colon_starts_body", crlf("From: a@example.org\nSubject: x\nThis line has no colon\nmore\n"),
        {"subject": "x", "text": {"$contains": "This line has no colon"}})

fixture("multipart_without_boundary_param", crlf("From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed\n\nno boundary declared\n"),
        {"defects_include": ["multipart without a boundary"], "text": {"$contains": "no boundary declared"}})

fixture("digest_default_rfc822", crlf(HDR.format(id="dig") + "Subject: digest\nMIME-Version: 1.0\n"
        'Content-Type: multipart/digest; boundary="d"\n\n--d\n\nFrom: x@example.org\nSubject: part one\n\none\n--d--\n'),
        {"attachments": [{"content_type": "message/rfc822", "nested_subject": "part one"}]})


# Real-world threading and parsing (the hardening issue, section 4): each of these made a reply
# open a new case.
fixture("thread_in_reply_to_obsolete_phrase", crlf(
    "From: Ann Lee <ann@example.org>\nSubject: Re: pothole\nMessage-ID: <reply-obs@example.org>\n"
    "In-Reply-To: Message from Jane Doe <jane@example.org>\n"
    ' of "Fri, 23 Aug 2002 15:15:06 -0300." <200208231815.g7NIF6x12345@mail.example.org>\n\nStill there.\n'),
    {"in_reply_to": ["200208231815.g7NIF6x12345@mail.example.org"], "text": "Still there.\n"})

fixture("thread_in_reply_to_phrase_only_mailbox", crlf(
    "From: a@example.org\nSubject: Re: x\nIn-Reply-To: Your message to <info@example.org> of Friday\n\nb\n"),
    {"in_reply_to": ["info@example.org"]})  # no later msg-id: the only item stays

fixture("thread_message_id_domain_literal", crlf(
    "From: Ann Lee <ann@example.org>\nSubject: domain literal\nMessage-ID: <p05100307b98c296c91aa@[200.255.3.123]>\n"
    "In-Reply-To: <a1b2@[10.0.0.1]>\nReferences: <root@example.org> <a1b2@[10.0.0.1]>\n\nHello.\n"),
    {"message_id": "p05100307b98c296c91aa@[200.255.3.123]", "in_reply_to": ["a1b2@[10.0.0.1]"],
     "references": ["root@example.org", "a1b2@[10.0.0.1]"]})

fixture("header_stray_mbox_from_line", crlf(
    "Return-Path: <ann@example.org>\nFrom ann@example.org Sat Aug 24 09:00:00 2002\nFrom: Ann Lee <ann@example.org>\n"
    "To: 311PublicWorks@city.example\nSubject: stray mbox line\nMessage-ID: <stray@example.org>\n\nThe body.\n"),
    {"subject": "stray mbox line", "message_id": "stray@example.org",
     "from": [{"name": "Ann Lee", "address": "ann@example.org"}], "text": "The body.\n",
     "defects_include": ["stray mbox 'From ' line in the header removed"]})

fixture("mime_boundary_rfc2231", crlf(
    "From: a@example.org\nSubject: rfc2231 boundary\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary*=\"us-ascii''abc%2D1\"\n\n"
    "--abc-1\nContent-Type: text/plain\n\nThe text part.\n--abc-1\n"
    'Content-Type: application/pdf; name="scan.pdf"\nContent-Disposition: attachment; filename="scan.pdf"\n'
    "Content-Transfer-Encoding: base64\n\n" + b64(b"%PDF-1.4 scanned page, long enough to be referenced") + "\n--abc-1--\n"),
    {"text": "The text part.", "attachments": [{"filename": "scan.pdf", "content_type": "application/pdf",
     "sha256": sha(b"%PDF-1.4 scanned page, long enough to be referenced")}],
     "defects_include": ['RFC 2231 boundary parameter read as boundary="abc-1"']})

fixture("body_inline_text_part_with_filename", crlf(
    "From: a@example.org\nSubject: inline text with a name\nMIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
    'Content-Type: text/plain; charset=iso-8859-1; name="note.txt"\nContent-Disposition: inline; filename="note.txt"\n'
    "Content-Transfer-Encoding: quoted-printable\n\nThe street light on Caf=E9 Road is out.\n--b--\n"),
    {"text": "The street light on Café Road is out.",
     "attachments": [{"filename": "note.txt", "content_type": "text/plain", "inline": True}]})


def main():
    os.makedirs(OUT, exist_ok=True)
    names = set()
    for name, raw, expect in FIXTURES:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(raw)
        with open(os.path.join(OUT, name + ".expect.json"), "w", encoding="utf-8") as f:
            json.dump(expect, f, ensure_ascii=False, indent=2, sort_keys=True)
            f.write("\n")
    print(f"{len(FIXTURES)} fixtures written to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
