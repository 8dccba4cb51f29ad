// SPDX-License-Identifier: MIT
#include <agent/audit/pages.hpp>

#include <algorithm>
#include <map>
#include <utility>

namespace execmark::audit {

namespace {

// Sort key of a page in its chain order: the time its events start from, in the direction
// pages follow each other; pages without events last. Between equal keys, a page with a token
// comes first (it is the earlier page of the two).
std::pair<bool, std::int64_t> chain_key(const Page& p)
{
    switch (p.order) {
    case PageOrder::newest_first:
        return {!p.newest_ms.has_value(), p.newest_ms ? -*p.newest_ms : 0};
    case PageOrder::oldest_first:
        return {!p.oldest_ms.has_value(), p.oldest_ms.value_or(0)};
    case PageOrder::none:
        break;
    }
    return {false, 0};
}

// Whether next can be the page after page.
bool can_follow(const Page& page, const Page& next)
{
    switch (page.order) {
    case PageOrder::newest_first:
        return !page.oldest_ms || !next.newest_ms || *next.newest_ms <= *page.oldest_ms;
    case PageOrder::oldest_first:
        return !page.newest_ms || !next.oldest_ms || *next.oldest_ms >= *page.newest_ms;
    case PageOrder::none:
        break;
    }
    return true;
}

} // namespace

void Page::saw_time(std::int64_t ms)
{
    oldest_ms = oldest_ms ? std::min(*oldest_ms, ms) : ms;
    newest_ms = newest_ms ? std::max(*newest_ms, ms) : ms;
}

std::vector<const Page*> PageSet::unfollowed_pages() const
{
    std::map<std::pair<std::string, std::string>, std::vector<const Page*>> groups;
    for (const Page& p : m_pages) {
        groups[{p.role, p.shape}].push_back(&p);
    }
    std::vector<const Page*> out;
    for (auto& [key, pages] : groups) {
        // Chain order; with no order, token pages first so that they chain into each other and
        // end in a page without a token.
        std::stable_sort(pages.begin(), pages.end(), [](const Page* a, const Page* b) {
            const auto ka = chain_key(*a);
            const auto kb = chain_key(*b);
            if (ka != kb) {
                return ka < kb;
            }
            return a->has_token && !b->has_token;
        });
        std::vector<bool> used(pages.size(), false);
        for (std::size_t i = 0; i < pages.size(); ++i) {
            if (!pages[i]->has_token) {
                continue;
            }
            bool followed = false;
            for (std::size_t j = i + 1; j < pages.size() && !followed; ++j) {
                if (!used[j] && can_follow(*pages[i], *pages[j])) {
                    used[j] = true;
                    followed = true;
                }
            }
            if (!followed) {
                out.push_back(pages[i]);
            }
        }
    }
    return out;
}

std::vector<std::string> PageSet::unfollowed() const
{
    std::vector<std::string> out;
    for (const Page* p : unfollowed_pages()) {
        const char* token = p->shape == "filter-log-events" ? "nextToken" : "NextToken";
        out.push_back(p->input + ": " + p->shape + " output ends with a " + token
                      + " and its next page is not among the inputs: the " + p->role
                      + " input is incomplete (fetch every page: without --max-items and "
                        "--no-paginate the AWS CLI follows the tokens itself)");
    }
    return out;
}

std::vector<std::string> PageSet::incomplete_roles() const
{
    std::vector<std::string> out;
    for (const Page* p : unfollowed_pages()) {
        if (std::find(out.begin(), out.end(), p->role) == out.end()) {
            out.push_back(p->role);
        }
    }
    return out;
}

} // namespace execmark::audit
