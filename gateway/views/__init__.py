"""What people see: the status snapshot, `lvgw status`, reports."""
