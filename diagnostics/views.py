"""Pages of the site. Views stay thin: queries and rules live in the domain modules."""
