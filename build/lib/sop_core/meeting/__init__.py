"""The monthly meeting: cycles and the lock, locked plan versions, scenarios, decisions, assumptions, roles."""
