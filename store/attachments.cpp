#include "store/attachments.hpp"

#include <fmt/format.h>

#include <chrono>

#include "mime/digest.hpp"
#include "mime/message.hpp"

namespace casemail::store {
namespace {

AttachmentContent content_of(bool blocked, bool stored) {
    if (blocked) return AttachmentContent::blocked;
    return stored ? AttachmentContent::blob : AttachmentContent::reference;
}

// An attachment row as read() and the conversion need it.
struct AttachmentRow {
    Id id = 0;
    std::string sha256;
    bool blocked = false, stored = false;
    std::optional<std::int64_t> raw_offset;
    std::int64_t raw_length = 0;
    std::string transfer_encoding;
};

std::optional<AttachmentRow> attachment_row(Database& db, Id email_id, int index) {
    if (index < 1) return std::nullopt;
    auto st = db.cached(
        "SELECT id, sha256, blocked, stored, raw_offset, raw_length, transfer_encoding FROM attachment "
        "WHERE email_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2");
    st->bind_all(email_id, index - 1);
    if (!st->step()) return std::nullopt;
    return AttachmentRow{st->int64(0),          st->text(1),         st->int64(2) != 0,
                         st->int64(3) != 0,     st->opt_int64(4),    st->int64(5),
                         st->opt_text(6).value_or("")};
}

std::string blob_of(Database& db, const std::string& sha256) {
    auto st = db.cached("SELECT content FROM attachment_blob WHERE sha256 = ?1");
    st->bind(1, sha256);
    if (!st->step()) return {};
    return st->blob(0);
}

// The part's decoded bytes, from the raw message when the row points into it.
std::optional<std::string> decode_reference(Database& db, Id email_id, const AttachmentRow& row) {
    if (!row.raw_offset || *row.raw_offset < 0 || row.raw_length < 0) return std::nullopt;
    auto encoded = db.read_blob_range("email_raw", "raw", email_id, static_cast<std::size_t>(*row.raw_offset),
                                      static_cast<std::size_t>(row.raw_length));
    if (!encoded) return std::nullopt;
    return mime::decode_attachment(*encoded, 0, encoded->size(), row.transfer_encoding);
}

// Limits that accept whatever was stored: the message passed the configured ones at ingest.
mime::Limits stored_message_limits(std::size_t size) {
    mime::Limits l;
    l.max_message_bytes = std::max(l.max_message_bytes, size);
    l.max_parts = 1u << 20;
    l.max_depth = 1u << 10;
    l.max_headers = 1u << 20;
    l.max_header_bytes = std::max(l.max_header_bytes, size);
    return l;
}

// The first parsed attachment with this SHA-256 that points into the raw message and has not
// been claimed by an earlier row.
const mime::Attachment* parsed_match(const mime::ParsedMessage& m, const std::string& sha256,
                                     std::vector<bool>& claimed) {
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
        if (claimed[i] || !m.attachments[i].raw_offset || m.attachments[i].sha256 != sha256) continue;
        claimed[i] = true;
        return &m.attachments[i];
    }
    return nullptr;
}

struct EmailForConversion {
    Id id = 0;
    std::optional<Id> case_id;
};

void record_kept(Database& db, const EmailForConversion& e, Id attachment_id, const std::string& sha256,
                 const std::string& why) {
    auto st = db.cached(
        "INSERT INTO event(at, actor, kind, case_id, email_id, detail) VALUES (?1, 'casemail-migration', "
        "'attachment-blob-kept', ?2, ?3, ?4)");
    st->bind_all(format_time(std::chrono::system_clock::now()), e.case_id, e.id,
                 fmt::format("attachment {} (sha256 {}) keeps its stored bytes: {}", attachment_id, sha256, why));
    st->run();
}

// Converts the blob-backed attachments of one email; counts into `out`.
void convert_email(Database& db, const EmailForConversion& e, BlobConversion& out) {
    // Runs as migration 7, before migration 8 moved raw messages to email_raw.
    auto raw_st = db.cached("SELECT raw FROM email WHERE id = ?1");
    raw_st->bind(1, e.id);
    if (!raw_st->step()) return;
    auto raw = raw_st->blob(0);
    auto parsed = mime::parse_message(raw, stored_message_limits(raw.size()));

    auto rows_st = db.cached(
        "SELECT id, sha256 FROM attachment WHERE email_id = ?1 AND stored = 1 AND raw_offset IS NULL ORDER BY id");
    rows_st->bind(1, e.id);
    std::vector<std::pair<Id, std::string>> rows;
    while (rows_st->step()) rows.emplace_back(rows_st->int64(0), rows_st->text(1));

    std::vector<bool> claimed(parsed ? parsed->attachments.size() : 0, false);
    for (const auto& [id, sha256] : rows) {
        const mime::Attachment* a = parsed ? parsed_match(*parsed, sha256, claimed) : nullptr;
        if (!a) {
            ++out.kept;
            record_kept(db, e, id, sha256,
                        parsed ? "its part does not lie byte for byte in the raw message"
                               : "the raw message no longer parses (" + parsed.error() + ")");
            continue;
        }
        auto decoded = mime::decode_attachment(raw, *a->raw_offset, a->raw_length, a->transfer_encoding);
        if (mime::sha256_hex(decoded) != sha256) {
            ++out.kept;
            record_kept(db, e, id, sha256, "decoding it from the raw message gives other bytes");
            continue;
        }
        auto up = db.cached(
            "UPDATE attachment SET stored = 0, raw_offset = ?2, raw_length = ?3, transfer_encoding = ?4 WHERE id = ?1");
        up->bind_all(id, static_cast<std::int64_t>(*a->raw_offset), static_cast<std::int64_t>(a->raw_length),
                     a->transfer_encoding);
        up->run();
        ++out.referenced;
    }
}

}  // namespace

void store_attachments(Database& db, Id email_id, const std::vector<AttachmentRecord>& attachments) {
    for (const auto& a : attachments) {
        const bool by_reference = !a.blocked && a.raw_offset.has_value();
        const bool stored = !a.blocked && !by_reference;
        if (stored) {
            auto blob = db.cached("INSERT OR IGNORE INTO attachment_blob(sha256, content) VALUES (?1, ?2)");
            blob->bind(1, a.sha256);
            blob->bind_borrowed(2, as_blob(a.data));
            blob->run();
        }
        auto st = db.cached(
            "INSERT INTO attachment(email_id, filename, content_type, size, sha256, stored, blocked, raw_offset, "
            "raw_length, transfer_encoding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        st->bind_all(email_id, a.filename, a.content_type, static_cast<std::int64_t>(a.size), a.sha256, stored,
                     a.blocked);
        if (by_reference) {  // otherwise NULL: reset() cleared the bindings
            st->bind(8, static_cast<std::int64_t>(*a.raw_offset));
            st->bind(9, static_cast<std::int64_t>(a.raw_length));
            st->bind(10, a.transfer_encoding);
        }
        st->run();
    }
}

std::vector<StoredAttachment> email_attachments(Store& store, Id email_id) {
    auto st = store.db().cached(
        "SELECT filename, content_type, size, sha256, blocked, stored FROM attachment WHERE email_id = ?1 ORDER BY id");
    st->bind(1, email_id);
    std::vector<StoredAttachment> out;
    while (st->step())
        out.push_back({static_cast<int>(out.size()) + 1, st->text(0), st->text(1), static_cast<std::size_t>(st->int64(2)),
                       st->text(3), content_of(st->int64(4) != 0, st->int64(5) != 0)});
    return out;
}

std::string read_attachment(Store& store, Id email_id, int index) {
    auto& db = store.db();
    auto row = attachment_row(db, email_id, index);
    if (!row) throw Refused(fmt::format("email {} has no attachment {}", email_id, index));
    if (row->blocked)
        throw Refused(fmt::format("attachment {} of email {} is a blocked type: only its name, type, size and "
                                  "SHA-256 were kept",
                                  index, email_id));
    std::optional<std::string> data = row->stored ? blob_of(db, row->sha256) : decode_reference(db, email_id, *row);
    if (!data || mime::sha256_hex(*data) != row->sha256)
        throw Refused(fmt::format("attachment {} of email {}: the stored bytes no longer give SHA-256 {}; "
                                  "the store may be damaged",
                                  index, email_id, row->sha256));
    return std::move(*data);
}

std::string BlobConversion::summary() const {
    if (referenced + kept + blobs_dropped == 0) return {};
    return fmt::format("attachments by reference: {} converted, {} kept their stored bytes; {} blobs ({} bytes) "
                       "dropped",
                       referenced, kept, blobs_dropped, bytes_dropped);
}

BlobConversion convert_attachment_blobs(Database& db) {
    BlobConversion out;
    std::vector<EmailForConversion> emails;
    {
        auto st = db.prepare(
            "SELECT DISTINCT e.id, e.case_id FROM attachment a JOIN email e ON e.id = a.email_id "
            "WHERE a.stored = 1 AND a.raw_offset IS NULL ORDER BY e.id");
        while (st.step()) emails.push_back({st.int64(0), st.opt_int64(1)});
    }
    for (const auto& e : emails) convert_email(db, e, out);
    const char* unused = "FROM attachment_blob WHERE NOT EXISTS "
                         "(SELECT 1 FROM attachment a WHERE a.sha256 = attachment_blob.sha256 AND a.stored = 1)";
    auto count = db.prepare(fmt::format("SELECT count(*), coalesce(sum(length(content)), 0) {}", unused));
    count.step();
    out.blobs_dropped = static_cast<std::size_t>(count.int64(0));
    out.bytes_dropped = static_cast<std::size_t>(count.int64(1));
    db.exec(fmt::format("DELETE {}", unused));
    return out;
}

}  // namespace casemail::store
