"""What people read: plots, the HTML report, generated docs."""
