"""What leaves Reviewer as a document: requests in the request format (`documents`), decision
records as PDF (`pdf`) and the text forms the command line prints (`text`). Pure: plain data
in, bytes or text out; the services gather the data."""
