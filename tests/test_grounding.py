"""A made-up process ID is not run: only the person's words and tools' results ground an identifier."""

from __future__ import annotations

from llmos.agent.grounding import unseen_identifier
from llmos.agent.loop import grounds
from llmos.conversation.session import TOOL_OUTPUT_MARK
from llmos.llm.messages import Message


def test_an_error_that_echoes_an_invented_pid_does_not_ground_it() -> None:
    """Measured on the 0.5B: process_details(pid=12345) was refused, then kill_process(pid=12345) ran,
    grounded by the refusal's own text."""
    seen = [Message("user", "what's the PID of backup-daemon?"),
            Message("tool", "Not run: pid 12345 appears nowhere in the request …", tool_call_id="1"),
            Message("tool", "No process with PID 12345 is running.", tool_call_id="2")]
    assert unseen_identifier({"pid": 12345, "force": True}, grounds(seen))
    found = Message("tool", TOOL_OUTPUT_MARK + '{"processes": [{"pid": 16307, "name": "backup-daemon"}]}',
                    tool_call_id="3")
    assert unseen_identifier({"pid": 16307}, grounds([*seen, found])) is None
    assert unseen_identifier({"pid": 4242}, grounds([Message("user", "tell me about process 4242")])) is None
