// casemail::Result<T> — the value of an operation on untrusted input, or the reason it failed.
//
// g++ 12 has no std::expected; this keeps the same shape (has_value, value, error, operator*)
// so it can be swapped later. Untrusted input never throws across module boundaries: parsers
// return a Result, callers decide.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace casemail {

struct Failure {
    std::string reason;
};

inline Failure fail(std::string reason) { return Failure{std::move(reason)}; }

template <class T>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Failure f) : v_(std::in_place_index<1>, std::move(f)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const std::string& error() const { return std::get<1>(v_).reason; }

private:
    std::variant<T, Failure> v_;
};

}  // namespace casemail
