"""The Python side of the parse benchmark: email.parser with policy.default, full decode of
the body and every attachment, on the same files bench_parse writes. Prints msgs/s, MB/s."""
import statistics
import sys
import time
from email import policy
from email.parser import BytesParser


def parse_fully(raw):
    m = BytesParser(policy=policy.default).parsebytes(raw)
    body = m.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    size = len(text)
    for part in m.iter_attachments():
        size += len(part.get_content())
    return size, str(m["subject"]), m["from"].addresses


def bench(label, path):
    raw = open(path, "rb").read()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            parse_fully(raw)
        if time.perf_counter() - t0 > 0.25:
            break
        n *= 2
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            parse_fully(raw)
        rates.append(n / (time.perf_counter() - t0))
    r = statistics.median(rates)
    print(f"{label:<28} {len(raw):8d} bytes  {r:10.0f} msgs/s  {r * len(raw) / 1e6:8.1f} MB/s")
    return r


if __name__ == "__main__":
    d = sys.argv[1]
    print("Python email, policy.default, full decode (median of 5 runs)")
    bench("4 KB text message", f"{d}/text_4k.eml")
    bench("100 KB with base64 attachment", f"{d}/attachment_100k.eml")
