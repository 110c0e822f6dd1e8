import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The Tauri CLI starts `npm run dev` and loads devUrl (port 5173), so the port is fixed.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    watch: { ignored: ["**/src-tauri/**", "**/crates/**", "**/tests/**", "**/target/**"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // antd is one large chunk by nature; the bundle is loaded from disk, not a network.
    chunkSizeWarningLimit: 2048,
  },
  test: {
    environment: "jsdom",
    include: ["ui/**/*.test.{ts,tsx}"],
    setupFiles: ["ui/test/setup.ts"],
    // antd pages render slowly in jsdom on a busy 2-core machine; these are not speed tests.
    testTimeout: 30000,
  },
});
