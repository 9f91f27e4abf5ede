#include <mimetic/mimetic.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <fmt/format.h>
#include <sstream>
#include <unordered_set>

#include "mime/decode.hpp"
#include "mime/digest.hpp"
#include "mime/message.hpp"
#include "mime/printable.hpp"
#include "mime/repair.hpp"
#include "mime/strings.hpp"
#include "mime/text.hpp"

// mimetic's header parser grows its field buffer 128 bytes at a time, copying the whole
// buffer each time: a field of n bytes costs O(n²). An 8 MB Subject took 16 s, and a hostile
// 40 MB one (within the message size limit) would take minutes, all before our header limit
// can refuse it. This is the same function with geometric growth, for the iterators we parse
// with (IteratorParser is a header-only template, instantiated here and nowhere in
// libmimetic; inline, as the original, since it runs per header byte). The buffer is
// mimetic's to free with delete[], hence new[] here.
namespace {
void grow_header_buffer(char*& buf, std::size_t& bufsz, std::size_t pos) {
    std::size_t size = std::max<std::size_t>(128, bufsz);
    while (pos >= size) size *= 2;
    auto* grown = new char[size + 1];  // +1: mimetic writes the terminating NUL at buf[pos]
    if (buf) {
        std::memcpy(grown, buf, bufsz);
        delete[] buf;
    }
    buf = grown;
    bufsz = size;
}

inline void append_header_byte(char*& buf, std::size_t& bufsz, char c, std::size_t& pos) {
    if (pos >= bufsz) grow_header_buffer(buf, bufsz, pos);
    buf[pos++] = c;
}
}  // namespace

template <>
inline void mimetic::IteratorParser<const char*, std::input_iterator_tag>::append(char*& buf, std::size_t& bufsz,
                                                                                 char c, std::size_t& pos) {
    append_header_byte(buf, bufsz, c, pos);
}

template <>
inline void mimetic::IteratorParser<std::string::iterator, std::input_iterator_tag>::append(char*& buf,
                                                                                           std::size_t& bufsz, char c,
                                                                                           std::size_t& pos) {
    append_header_byte(buf, bufsz, c, pos);
}

namespace casemail::mime {
namespace {

// Header fields of one entity as (name, value) pairs.
std::vector<Header> fields_of(const mimetic::MimeEntity& e) {
    std::vector<Header> out;
    for (const auto& f : e.header())
        out.push_back({std::string(f.name().c_str(), f.name().size()), f.value()});
    return out;
}

const Header* find_field(const std::vector<Header>& fields, std::string_view name) {
    for (const auto& f : fields)
        if (iequals_ascii(f.name, name)) return &f;
    return nullptr;
}

std::string field_value(const std::vector<Header>& fields, std::string_view name) {
    const Header* f = find_field(fields, name);
    return f ? f->value : std::string();
}

// Line-level pre-scan, before mimetic allocates anything: bounds the entity count so that a
// 40 MB message of boundary lines cannot become millions of objects.
struct PreScan {
    std::size_t content_type_lines = 0;
    std::size_t dash_lines = 0;
};

PreScan prescan(std::string_view raw) {
    PreScan p;
    std::size_t i = 0;
    while (i < raw.size()) {
        if (raw[i] == '-' && i + 1 < raw.size() && raw[i + 1] == '-') ++p.dash_lines;
        else if ((raw[i] == 'c' || raw[i] == 'C') && raw.size() - i > 13 && iequals_ascii(raw.substr(i, 13), "content-type:"))
            ++p.content_type_lines;
        auto nl = raw.find('\n', i);
        if (nl == std::string_view::npos) break;
        i = nl + 1;
    }
    return p;
}

// Lines of `raw` that start with "--" followed by one of the declared boundaries.
std::size_t count_boundary_lines(std::string_view raw, const std::unordered_set<std::string>& prefixes,
                                 std::size_t prefix_len) {
    std::size_t n = 0, i = 0;
    while (i < raw.size()) {
        if (raw.compare(i, 2, "--") == 0) {
            for (std::size_t len = 1; len <= prefix_len && i + 2 + len <= raw.size(); ++len)
                if (prefixes.count(std::string(raw.substr(i + 2, len)))) { ++n; break; }
        }
        auto nl = raw.find('\n', i);
        if (nl == std::string_view::npos) break;
        i = nl + 1;
    }
    return n;
}

std::unordered_set<std::string> declared_boundary_prefixes(std::string_view raw, std::size_t prefix_len) {
    std::unordered_set<std::string> out;
    std::size_t i = 0;
    while ((i = raw.find("oundary", i)) != std::string_view::npos) {
        i += 7;
        std::size_t k = i;
        while (k < raw.size() && (raw[k] == ' ' || raw[k] == '=' || raw[k] == '"')) ++k;
        std::size_t e = k;
        while (e < raw.size() && e - k < prefix_len && raw[e] != '"' && raw[e] != ';' && raw[e] != '\r' && raw[e] != '\n') ++e;
        if (e > k) out.insert(std::string(raw.substr(k, e - k)));
    }
    return out;
}

struct Walk {
    const Limits& limits;
    ParsedMessage& msg;
    std::string_view raw;
    std::string fallback_charset;
    std::vector<std::string> plain_parts;
    std::size_t entities = 0;
    std::size_t max_seen_depth = 0;
    std::optional<std::string> limit_error;
    std::size_t origin = 0;       // bytes of the stored message before `raw` (an mbox "From " line)
    std::size_t raw_end = 0;      // `raw` beyond this are bytes added for mimetic, not the message's
    std::size_t next_body = 0;    // where the next attachment's body may start
    ParseOptions options;
    std::size_t scan_budget = 0;  // bytes locate_body() may still look at
    std::optional<std::string> named_inline_text;  // an inline text/plain part with a filename
};

// Where `body` lies in w.raw, at or after w.next_body: found by its first bytes (memmem) and
// confirmed whole. Every byte looked at comes out of w.scan_budget (a few times the message),
// so hostile input (thousands of parts whose bodies are not found) still costs linear time.
std::optional<std::size_t> locate_body(Walk& w, std::string_view body) {
    if (body.size() < 16) return std::nullopt;  // not worth a reference
    auto prefix = body.substr(0, 64);
    std::size_t from = w.next_body;
    for (int tries = 0; tries < 8 && from < w.raw_end; ++tries) {
        const char* start = w.raw.data() + from;
        const void* hit = ::memmem(start, w.raw_end - from, prefix.data(), prefix.size());
        auto pos = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - w.raw.data()) : w.raw_end;
        std::size_t cost = pos - from + (hit ? body.size() : 0);
        if (cost > w.scan_budget) {
            w.scan_budget = 0;
            return std::nullopt;
        }
        w.scan_budget -= cost;
        if (!hit) return std::nullopt;
        if (w.raw_end - pos >= body.size() && std::memcmp(w.raw.data() + pos, body.data(), body.size()) == 0) return pos;
        from = pos + 1;
    }
    return std::nullopt;
}

// Records where the attachment's body lies in the raw message, and drops its decoded bytes
// when the caller asked to (they can be decoded again from there).
void reference_body(Walk& w, Attachment& a, std::string_view body, std::string_view encoding) {
    auto pos = locate_body(w, body);
    if (!pos) return;
    a.raw_offset = w.origin + *pos;
    a.raw_length = body.size();
    a.transfer_encoding = to_lower_ascii(trim(encoding));
    w.next_body = *pos + body.size();
    if (!w.options.keep_referenced_data) std::string().swap(a.data);
}

// `known_fields`: the root's header fields, already copied out (mimetic copies a field's value
// on every read).
void check_limits(const mimetic::MimeEntity& e, std::size_t depth, Walk& w,
                  const std::vector<Header>* known_fields = nullptr) {
    if (w.limit_error) return;
    ++w.entities;
    w.max_seen_depth = std::max(w.max_seen_depth, depth);
    if (depth > w.limits.max_depth) {
        w.limit_error = fmt::format("MIME nesting deeper than the limit of {}", w.limits.max_depth);
        return;
    }
    if (w.entities > w.limits.max_parts) {
        w.limit_error = fmt::format("more than {} MIME parts", w.limits.max_parts);
        return;
    }
    if (e.header().size() > w.limits.max_headers) {
        w.limit_error = fmt::format("{} header fields in one part, limit {}", e.header().size(), w.limits.max_headers);
        return;
    }
    auto too_long = [&](std::string_view name, std::size_t value_size) {
        if (name.size() + value_size <= w.limits.max_header_bytes) return false;
        w.limit_error = fmt::format("header field '{}' longer than the limit of {} bytes", printable(name, 40),
                                    w.limits.max_header_bytes);
        return true;
    };
    if (known_fields) {
        for (const auto& f : *known_fields)
            if (too_long(f.name, f.value.size())) return;
    } else {
        for (const auto& f : e.header())
            if (too_long(std::string_view(f.name().c_str(), f.name().size()), f.value().size())) return;
    }
    for (const auto* child : e.body().parts()) check_limits(*child, depth + 1, w);
}

// CRLF and lone CR become LF, in place (the text only shrinks). Moves runs between CRs in
// bulk: this is on every text body.
std::string crlf_to_lf(std::string s) {
    auto cr = s.find('\r');
    if (cr == std::string::npos) return s;
    std::size_t out = cr;  // write position; everything before the first CR stays
    while (cr != std::string::npos) {
        s[out++] = '\n';
        std::size_t start = cr + 1;
        if (start < s.size() && s[start] == '\n') ++start;
        cr = s.find('\r', start);
        std::size_t run = (cr == std::string::npos ? s.size() : cr) - start;
        std::memmove(s.data() + out, s.data() + start, run);
        out += run;
    }
    s.resize(out);
    return s;
}

std::string strip_angle(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return std::string(trim(s));
}

// `known_fields` and `known_ct`: the root's header fields and Content-Type, already parsed.
void visit(const mimetic::MimeEntity& e, Walk& w, std::string_view parent_type,
           const std::vector<Header>* known_fields = nullptr, const HeaderParams* known_ct = nullptr) {
    std::vector<Header> own_fields;
    if (!known_fields) own_fields = fields_of(e);
    const auto& fields = known_fields ? *known_fields : own_fields;
    auto& defects = w.msg.defects;
    std::string ct_raw = field_value(fields, "Content-Type");
    HeaderParams ct = known_ct ? *known_ct : parse_header_params(ct_raw, defects);
    // mimetic re-serialises Content-Type: "garbage" arrives here as "garbage/".
    auto slash = ct.value.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == ct.value.size()) {
        if (!ct_raw.empty()) add_defect(defects, "malformed Content-Type taken as text/plain");
        ct.value = parent_type == "multipart/digest" ? "message/rfc822" : "text/plain";
    }
    const auto& parts = e.body().parts();

    if (ct.value.starts_with("multipart/")) {
        std::string boundary = ct.param("boundary");
        if (boundary.empty()) add_defect(defects, "multipart without a boundary");
        if (parts.empty()) {
            // Boundary never found: mimetic left everything in the preamble. Keep it as text.
            add_defect(defects, "multipart boundary never found; body kept as text");
            std::string body = e.body().preamble();
            if (!trim(body).empty()) w.plain_parts.push_back(crlf_to_lf(to_utf8(body, ct.param("charset"), defects)));
            return;
        }
        if (!boundary.empty() && w.raw.find("--" + boundary + "--") == std::string_view::npos)
            add_defect(defects, "missing final MIME boundary");
        for (const auto* child : parts) visit(*child, w, ct.value);
        return;
    }

    std::string disposition_raw = field_value(fields, "Content-Disposition");
    HeaderParams disp = parse_header_params(disposition_raw, defects);
    std::string filename = disp.param("filename");
    if (filename.empty()) filename = ct.param("name");
    std::string content_id = strip_angle(field_value(fields, "Content-ID"));

    if (ct.value == "message/rfc822" || ct.value == "message/global") {
        Attachment a;
        a.content_type = ct.value;
        a.filename = filename;
        if (!parts.empty()) {
            std::ostringstream os;
            os << *parts.front();
            a.data = os.str();
            auto inner = fields_of(*parts.front());
            a.nested_subject = decode_header_text(trim(field_value(inner, "Subject")), defects, w.fallback_charset);
        } else {
            // Not parsed as a child (e.g. a multipart/digest part without Content-Type):
            // read just its header to name it.
            a.data = decode_transfer(e.body(), field_value(fields, "Content-Transfer-Encoding"), defects);
            // mimetic throws here as on the whole message (std::length_error, found by the
            // fuzzer in a digest part): the part stays an attachment, only its name is lost.
            try {
                mimetic::MimeEntity inner;
                inner.load(a.data.begin(), a.data.end(), mimetic::imBody | mimetic::imChildParts);
                a.nested_subject = decode_header_text(trim(field_value(fields_of(inner), "Subject")), defects,
                                                      w.fallback_charset);
            } catch (const std::exception& ex) {
                add_defect(defects, fmt::format("nested message header could not be parsed ({})", ex.what()));
            }
        }
        if (a.filename.empty()) a.filename = (a.nested_subject.empty() ? "message" : a.nested_subject) + ".eml";
        a.size = a.data.size();
        a.sha256 = sha256_hex(a.data);
        a.is_inline = disp.value == "inline";
        a.content_id = content_id;
        w.msg.attachments.push_back(std::move(a));
        return;
    }

    std::string decoded = decode_transfer(e.body(), field_value(fields, "Content-Transfer-Encoding"), defects);
    bool is_text_body = (ct.value == "text/plain" || ct.value == "text/html") && filename.empty() &&
                        disp.value != "attachment";
    if (is_text_body) {
        auto charset = ct.param("charset");
        std::string text = utf8_as_labelled(decoded, charset) ? std::move(decoded) : to_utf8(decoded, charset, defects);
        if (ct.value == "text/html") {
            if (w.msg.html.empty()) w.msg.html = std::move(text);
        } else {
            w.plain_parts.push_back(crlf_to_lf(std::move(text)));
        }
        return;
    }

    Attachment a;
    a.content_type = ct.value;
    a.filename = filename;
    a.content_id = content_id;
    a.is_inline = disp.value == "inline" || (disp.value.empty() && !content_id.empty());
    a.tnef = ct.value == "application/ms-tnef" || ct.value == "application/vnd.ms-tnef" ||
             iequals_ascii(filename, "winmail.dat");
    if (a.tnef) add_defect(defects, "Outlook TNEF (winmail.dat) attachment not decoded");
    // Some clients send the only text of a message as an inline text/plain part with a name:
    // it is the body as well (used when no other text is found).
    if (ct.value == "text/plain" && disp.value == "inline" && !w.named_inline_text) {
        auto charset = ct.param("charset");
        w.named_inline_text = crlf_to_lf(utf8_as_labelled(decoded, charset) ? decoded : to_utf8(decoded, charset, defects));
    }
    a.data = std::move(decoded);
    a.size = a.data.size();
    a.sha256 = sha256_hex(a.data);
    reference_body(w, a, e.body(), field_value(fields, "Content-Transfer-Encoding"));
    w.msg.attachments.push_back(std::move(a));
}

void set_flag(Flag& f, std::string trigger) {
    if (f.set) return;
    f.set = true;
    f.trigger = printable(trigger, 120);
}

void detect_flags(ParsedMessage& m, const HeaderParams& content_type) {
    for (const auto& h : m.headers) {
        // Only the few headers below matter; skip the rest before lower-casing anything.
        char first = static_cast<char>(std::tolower(static_cast<unsigned char>(h.name.empty() ? ' ' : h.name[0])));
        if (first != 'a' && first != 'x' && first != 'p' && first != 'l' && first != 'r') continue;
        auto v = trim(h.value);
        if (iequals_ascii(h.name, "Auto-Submitted") && !v.empty() && !iequals_ascii(v, "no"))
            set_flag(m.flags.auto_reply, "Auto-Submitted: " + std::string(v));
        else if (iequals_ascii(h.name, "X-Autoreply") || iequals_ascii(h.name, "X-Autorespond"))
            set_flag(m.flags.auto_reply, h.name + ": " + std::string(v));
        else if (iequals_ascii(h.name, "Precedence")) {
            auto lower = to_lower_ascii(v);
            if (lower == "auto_reply") set_flag(m.flags.auto_reply, "Precedence: " + lower);
            else if (lower == "bulk" || lower == "junk" || lower == "list") set_flag(m.flags.bulk, "Precedence: " + lower);
        } else if (iequals_ascii(h.name, "List-Id")) {
            set_flag(m.flags.bulk, "List-Id: " + std::string(v));
        } else if (iequals_ascii(h.name, "Return-Path") && (v == "<>" || v.empty())) {
            set_flag(m.flags.bounce, "Return-Path: <>");
        }
    }
    if (content_type.value == "multipart/report" &&
        to_lower_ascii(content_type.param("report-type")) == "delivery-status")
        set_flag(m.flags.bounce, "Content-Type: multipart/report; report-type=delivery-status");
    for (const auto* list : {&m.from, &m.sender}) {
        for (const auto& a : *list) {
            if (is_mail_system_address(a.address))
                set_flag(m.flags.bounce, std::string(list == &m.from ? "From: " : "Sender: ") + a.address);
        }
    }
}

// The part-count limit checked before mimetic builds anything. A message shorter than
// max_parts * 12 bytes cannot hold more than max_parts "Content-Type:" lines (14 bytes each)
// nor 4 * max_parts "--" lines (3 bytes each): the pre-scan cannot trip.
std::optional<std::string> too_many_parts(std::string_view raw, const Limits& limits) {
    PreScan scan;
    if (raw.size() >= limits.max_parts * 12) scan = prescan(raw);
    if (scan.content_type_lines > limits.max_parts)
        return fmt::format("more than {} MIME parts ({} Content-Type headers)", limits.max_parts,
                           scan.content_type_lines);
    if (scan.dash_lines > limits.max_parts * 4) {
        constexpr std::size_t prefix_len = 8;
        auto prefixes = declared_boundary_prefixes(raw, prefix_len);
        auto boundary_lines = count_boundary_lines(raw, prefixes, prefix_len);
        if (boundary_lines > limits.max_parts * 2)
            return fmt::format("more than {} MIME parts ({} boundary lines)", limits.max_parts, boundary_lines);
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> ParsedMessage::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals_ascii(h.name, name)) return h.value;
    return std::nullopt;
}

std::vector<std::string> parse_message_ids(std::string_view value) {
    std::vector<std::string> ids;
    std::size_t i = 0;
    while (i < value.size() && ids.size() < 500) {
        char c = value[i];
        if (c == '<') {
            auto end = value.find('>', i + 1);
            if (end == std::string_view::npos) end = value.size();
            auto id = trim(value.substr(i + 1, end - i - 1));
            if (!id.empty()) ids.emplace_back(id);
            i = end + 1;
        } else if (c == '(') {  // comment
            auto end = value.find(')', i + 1);
            i = end == std::string_view::npos ? value.size() : end + 1;
        } else if (std::isspace(static_cast<unsigned char>(c)) || c == ',') {
            ++i;
        } else {  // bare id without brackets (obsolete, but Outlook and scripts send them)
            auto start = i;
            while (i < value.size() && !std::isspace(static_cast<unsigned char>(value[i])) && value[i] != ',' && value[i] != '<')
                ++i;
            auto id = value.substr(start, i - start);
            if (id.find('@') != std::string_view::npos) ids.emplace_back(id);
        }
    }
    return ids;
}

std::vector<std::string> parse_in_reply_to(std::string_view value) {
    // The obsolete phrase form (RFC 822: *(phrase / msg-id)), as some clients still write it:
    //   Message from Jane Doe <jane@example.org> of "Fri, 23 Aug 2002 15:15:06 -0300." <id@host>
    // An item with phrase words on both sides is the mailbox of the phrase, not the id, when a
    // later item is a msg-id. Comments and quoted strings are phrase too.
    struct Item {
        std::string id;
        bool phrase_before = false, phrase_after = false;
    };
    std::vector<Item> items;
    bool phrase = false;  // phrase text since the last item
    std::size_t i = 0;
    while (i < value.size() && items.size() < 500) {
        char c = value[i];
        if (c == '<') {
            auto end = value.find('>', i + 1);
            if (end == std::string_view::npos) end = value.size();
            auto id = trim(value.substr(i + 1, end - i - 1));
            if (!items.empty()) items.back().phrase_after = phrase;
            if (!id.empty()) items.push_back({std::string(id), phrase, false});
            phrase = false;
            i = end + 1;
        } else if (c == '"' || c == '(') {
            auto end = value.find(c == '"' ? '"' : ')', i + 1);
            i = end == std::string_view::npos ? value.size() : end + 1;
            phrase = true;
        } else {
            phrase = phrase || !(std::isspace(static_cast<unsigned char>(c)) || c == ',');
            ++i;
        }
    }
    if (!items.empty()) items.back().phrase_after = phrase;
    std::vector<std::string> ids;
    for (std::size_t k = 0; k < items.size(); ++k) {
        bool in_phrase = items[k].phrase_before && items[k].phrase_after && k + 1 < items.size();
        if (!in_phrase) ids.push_back(std::move(items[k].id));
    }
    // No <...> at all: bare ids, as parse_message_ids reads them (Outlook and scripts).
    return items.empty() ? parse_message_ids(value) : ids;
}

std::string decode_attachment(std::string_view raw, std::size_t offset, std::size_t length,
                              std::string_view transfer_encoding) {
    if (offset > raw.size() || length > raw.size() - offset) return {};
    Defects ignored;
    return decode_transfer(raw.substr(offset, length), transfer_encoding, ignored);
}

Result<ParsedMessage> parse_message(std::string_view raw, const Limits& limits, const ParseOptions& options) {
    const std::size_t stored_size = raw.size();
    if (raw.size() > limits.max_message_bytes)
        return fail(fmt::format("message of {} bytes exceeds the limit of {} bytes", raw.size(),
                                limits.max_message_bytes));
    ParsedMessage msg;
    auto& defects = msg.defects;

    // mbox "From " line: mimetic would take the whole mail as one body.
    if (raw.starts_with("From ")) {
        auto nl = raw.find('\n');
        raw = nl == std::string_view::npos ? std::string_view() : raw.substr(nl + 1);
        add_defect(defects, "leading mbox 'From ' line removed");
    }
    if (trim(raw).empty()) return fail("empty message");
    if (raw.find('\0') != std::string_view::npos) add_defect(defects, "NUL bytes in message");

    if (auto too_many = too_many_parts(raw, limits)) return fail(*too_many);
    std::string owned;
    std::string_view input = detail::mimetic_input(raw, owned, defects);

    mimetic::MimeEntity root;
    try {
        root.load(input.begin(), input.end());
    } catch (const std::exception& e) {
        // mimetic throws on some malformed structures (std::length_error from its header
        // parser, found by the fuzzer). Untrusted input must not throw past this module.
        return fail(fmt::format("MIME structure could not be parsed ({})", e.what()));
    }

    // Attachments are located in the raw message, never in mimetic's (possibly repaired) copy.
    Walk w{limits, msg, raw, "windows-1252", {}, 0, 0, std::nullopt, stored_size - raw.size(), raw.size(), 0, options, 4 * raw.size(), std::nullopt};
    msg.headers = fields_of(root);
    check_limits(root, 0, w, &msg.headers);
    if (w.limit_error) return fail(*w.limit_error);

    if (msg.headers.empty()) add_defect(defects, "no header fields found");
    const auto top_ct = parse_header_params(msg.header("Content-Type").value_or(""), defects);
    if (auto cs = to_lower_ascii(top_ct.param("charset")); !cs.empty() && cs != "utf-8" && cs != "us-ascii")
        w.fallback_charset = cs;
    auto text_header = [&](std::string_view name) {
        return decode_header_text(trim(msg.header(name).value_or("")), defects, w.fallback_charset);
    };

    if (auto id = msg.header("Message-ID")) {
        auto ids = parse_message_ids(*id);
        if (!ids.empty()) msg.message_id = ids.front();
        else add_defect(defects, "unreadable Message-ID");
    }
    if (auto v = msg.header("In-Reply-To")) msg.in_reply_to = parse_in_reply_to(*v);
    if (auto v = msg.header("References")) msg.references = parse_message_ids(*v);
    if (auto v = msg.header("Date")) {
        msg.date = parse_rfc5322_date(*v);
        if (!msg.date) add_defect(defects, "unreadable Date: " + printable(*v, 60));
    }
    msg.subject = text_header("Subject");
    // One pass over the fields; several To: (or Cc:) lines happen, all are taken.
    const std::pair<std::string_view, std::vector<Address>*> address_fields[] = {
        {"From", &msg.from}, {"Sender", &msg.sender}, {"Reply-To", &msg.reply_to},
        {"To", &msg.to},     {"Cc", &msg.cc},         {"Bcc", &msg.bcc}};
    for (const auto& h : msg.headers) {
        for (const auto& [name, list] : address_fields) {
            if (!iequals_ascii(h.name, name)) continue;
            auto some = parse_address_list(h.value, defects, w.fallback_charset);
            list->insert(list->end(), some.begin(), some.end());
            break;
        }
    }
    msg.tracking = std::string(trim(msg.header("X-311-Case").value_or("")));
    msg.return_path = std::string(trim(msg.header("Return-Path").value_or("")));
    if (msg.from.empty() && msg.header("From")) add_defect(defects, "From header without a usable address");

    visit(root, w, "", &msg.headers, &top_ct);
    std::string text;
    if (w.plain_parts.size() == 1) text = std::move(w.plain_parts.front());
    else
        for (const auto& p : w.plain_parts) {
            if (!text.empty()) text += "\n\n";
            text += p;
        }
    if (trim(text).empty() && !msg.html.empty()) text = html_to_text(msg.html);
    if (trim(text).empty() && w.named_inline_text) text = std::move(*w.named_inline_text);
    msg.text = std::move(text);
    detect_flags(msg, top_ct);
    return msg;
}

}  // namespace casemail::mime
