"""The agent: connects MCP servers, offers their tools to the model, gates and runs the calls."""
