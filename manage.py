#!/usr/bin/env python
from wenming.cli import main

if __name__ == "__main__":
    main()
