"""What the views show a person: values in words and units people read at a glance
(`humanize`), and each device's few headline figures with their state (`summary`),
found by what the profiles' points mean, never by their names."""
