#!/usr/bin/env node
// The `tisync` command (DESIGN §6). The code is compiled to dist by `npm run build`.
import "../dist/cli/main.js"
