// Sample messages shared by the benchmarks: a ~4 KB text message and a ~100 KB message with
// a base64 attachment. Deterministic so runs compare.
#pragma once

#include <string>

namespace casemail::bench {

inline std::string text_message_4k(int n = 0) {
    std::string body;
    while (body.size() < 3600)
        body += "The streetlight outside 1200 Main St has been out since Monday evening and the "
                "corner is very dark. Please send someone to look at it.\r\n";
    return "From: \"Lee, Ann\" <ann.lee@example.org>\r\n"
           "To: 311PublicWorks@city.example\r\n"
           "Subject: =?utf-8?Q?Streetlight_out_on_M=C3=A4in_St?= #" + std::to_string(n) + "\r\n"
           "Message-ID: <bench-" + std::to_string(n) + "@example.org>\r\n"
           "Date: Tue, 3 Nov 2026 10:00:00 -0500\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + body;
}

inline std::string attachment_message_100k(int n = 0) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    unsigned state = 12345;
    for (int line = 0; line < 1300; ++line) {  // 1300 * 76 = 98,800 base64 chars ≈ 74 KB decoded
        for (int k = 0; k < 76; ++k) {
            state = state * 1103515245u + 12345u;
            b64 += alphabet[(state >> 16) % 64];
        }
        b64 += "\r\n";
    }
    return "From: Ann Lee <ann.lee@example.org>\r\n"
           "To: 311PublicWorks@city.example\r\n"
           "Subject: Photo of the pothole #" + std::to_string(n) + "\r\n"
           "Message-ID: <bench-att-" + std::to_string(n) + "@example.org>\r\n"
           "Date: Tue, 3 Nov 2026 10:00:00 -0500\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"=_bench\"\r\n\r\n"
           "--=_bench\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "Photo attached. It is about a metre wide.\r\n"
           "--=_bench\r\nContent-Type: image/jpeg; name=\"pothole.jpg\"\r\n"
           "Content-Disposition: attachment; filename=\"pothole.jpg\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "--=_bench--\r\n";
}

}  // namespace casemail::bench
