// SPDX-License-Identifier: MIT
#include <agent/hooks/hooks.hpp>
#include <agent/util/error.hpp>

#include <vector>

namespace execmark::hooks {

namespace {

// A line of content: [start, end) without its '\n'; next is where the following line starts.
struct Line {
    std::size_t start = 0;
    std::size_t end = 0;
    std::size_t next = 0;
};

// Where execmark's block is in an rc file, if it is there exactly once.
struct BlockSpan {
    std::size_t begin_lines = 0;
    std::size_t end_lines = 0;
    std::size_t start = 0; // first byte of the begin line
    std::size_t stop = 0;  // one past the end line's '\n' (or the end of content)
    bool found = false;
};

BlockSpan find_block(std::string_view content)
{
    BlockSpan span;
    std::size_t pos = 0;
    bool start_seen = false;
    while (pos < content.size()) {
        Line line;
        line.start = pos;
        const auto nl = content.find('\n', pos);
        line.end = nl == std::string_view::npos ? content.size() : nl;
        line.next = nl == std::string_view::npos ? content.size() : nl + 1;
        const auto text = content.substr(line.start, line.end - line.start);
        if (text == k_block_begin) {
            ++span.begin_lines;
            if (!start_seen) {
                span.start = line.start;
                start_seen = true;
            }
        } else if (text == k_block_end) {
            ++span.end_lines;
            if (start_seen && span.end_lines == 1) {
                span.stop = line.next;
            }
        }
        pos = line.next;
    }
    span.found = span.begin_lines == 1 && span.end_lines == 1 && span.stop > span.start;
    return span;
}

} // namespace

std::string rc_block(HookKind kind)
{
    const std::string path(hook_path(kind));
    std::string block;
    block.append(k_block_begin).append("\n");
    block.append(
        "# Added by `execmark hook install`: signed session banner for interactive shells.\n");
    // $? is saved first, for the hook to give back: the test of the file would replace it.
    block.append("_execmark_hook_status=$?\n");
    block.append("if [ -r ")
        .append(path)
        .append(" ]; then . ")
        .append(path)
        .append("; else unset _execmark_hook_status; fi\n");
    block.append(k_block_end).append("\n");
    return block;
}

BlockState block_state(std::string_view content, std::string_view block)
{
    const auto span = find_block(content);
    if (span.begin_lines == 0 && span.end_lines == 0) {
        return BlockState::absent;
    }
    if (!span.found) {
        return BlockState::damaged;
    }
    return content.substr(span.start, span.stop - span.start) == block ? BlockState::current
                                                                       : BlockState::outdated;
}

util::Result<BlockEdit> put_block(std::string_view content, std::string_view block)
{
    const auto span = find_block(content);
    BlockEdit edit;
    if (span.begin_lines == 0 && span.end_lines == 0) {
        edit.content.reserve(content.size() + block.size() + 2);
        edit.content.append(content);
        if (!content.empty() && content.back() != '\n') {
            edit.content.push_back('\n');
        }
        if (!content.empty()) {
            edit.content.push_back('\n');
        }
        edit.content.append(block);
        edit.action = BlockAction::appended;
        return edit;
    }
    if (!span.found) {
        return util::make_error(
            "update",
            "rc file",
            "its execmark block is damaged (" + std::to_string(span.begin_lines) + " '"
                + std::string(k_block_begin) + "' and " + std::to_string(span.end_lines) + " '"
                + std::string(k_block_end)
                + "' lines, expected one each, in that order); remove them and install again");
    }
    if (content.substr(span.start, span.stop - span.start) == block) {
        edit.content = std::string(content);
        edit.action = BlockAction::unchanged;
        return edit;
    }
    edit.content.reserve(content.size() + block.size());
    edit.content.append(content.substr(0, span.start));
    edit.content.append(block);
    edit.content.append(content.substr(span.stop));
    edit.action = BlockAction::replaced;
    return edit;
}

} // namespace execmark::hooks
