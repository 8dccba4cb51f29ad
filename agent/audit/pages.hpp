// SPDX-License-Identifier: MIT
#pragma once

// Paged inputs: `aws cloudtrail lookup-events`, `aws logs filter-log-events`,
// `aws cloudtrail get-query-results` and `aws identitystore list-users` output that ends with a
// NextToken (nextToken) has more results behind it. The token does not name the page it leads
// to, and the next page does not name the token it was fetched with, so a page's next page is
// recognised by shape and time (docs/auditing.md, "Incomplete inputs"):
// - pages of one shape, in one role (CloudTrail, session logs, container logs, directory);
// - lookup-events returns events newest first: the next page holds no event newer than the
//   page's oldest; filter-log-events returns them oldest first: the next page holds no event
//   older than the page's newest; other shapes (and empty pages) carry no order;
// - each page is the next page of at most one page.
// A page with a token and no such next page among the inputs makes the input incomplete.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace execmark::audit {

enum class PageOrder {
    none,         // no order between pages
    newest_first, // lookup-events
    oldest_first, // filter-log-events
};

struct Page {
    std::string input; // the file (and page within it, for concatenated output)
    std::string role;  // "CloudTrail", "session log", "container log", "Identity Center"
    std::string shape; // "lookup-events", "filter-log-events", ...
    PageOrder order = PageOrder::none;
    bool has_token = false;
    std::optional<std::int64_t> oldest_ms, newest_ms; // of the page's events

    void saw_time(std::int64_t ms);
};

class PageSet {
public:
    void add(Page page) { m_pages.push_back(std::move(page)); }

    // One message per page whose token was not followed ("<input>: <shape> output ends with a
    // NextToken and its next page is not among the inputs ...").
    [[nodiscard]] std::vector<std::string> unfollowed() const;

    // The roles with an unfollowed page ("CloudTrail", "session log", ...), each once.
    [[nodiscard]] std::vector<std::string> incomplete_roles() const;

private:
    [[nodiscard]] std::vector<const Page*> unfollowed_pages() const;

    std::vector<Page> m_pages;
};

} // namespace execmark::audit
