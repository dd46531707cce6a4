"""Live conversations: handoff to a person, the agents' inbox, the live event bus."""
