"""The board pack: one content model of the plan, rendered to PDF, PowerPoint and Excel."""
