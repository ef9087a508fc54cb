"""Credit risk: the automated review and decision of applications (scoring platform to come)."""
