"""What the pages and the board pack both show, computed once: stories, reviews, bridges, charts."""
