"""search_page finds every word of a query, and says what to do when nothing matches (the real browser
server, in memory, against a page served on loopback)."""

from __future__ import annotations

import asyncio

from tests.mcp_helpers import call, memory_client
from tests.test_server_browser import OPEN, site  # noqa: F401  (fixture)


def test_words_of_a_query_and_a_query_found_nowhere(site: str) -> None:  # noqa: F811
    """Measured: "summarise …/news.html" → search_page(query="news"), which found nothing; the 0.5B sent it
    three times. A query of several words had to appear as one phrase."""
    async def main() -> tuple[dict, dict]:
        async with memory_client("browser", OPEN) as client:
            return (await call(client, "search_page", url=f"{site}/page", query="fridays chips"),
                    await call(client, "search_page", url=f"{site}/page", query="news"))
    words, nothing = asyncio.run(main())
    assert [m["text"] for m in words["matches"]] == ["Fish & chips are served on Fridays."]
    assert words["note"] is None
    assert nothing["matches"] == [] and "fetch_page" in nothing["note"]
