import { ConfigProvider } from "antd";
import "antd/dist/reset.css";
import "./console.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App";
import { setLocale } from "./i18n";
import { preferredLocale } from "./locale";

setLocale(preferredLocale());

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ConfigProvider theme={{ token: { borderRadius: 4 } }}>
      <App />
    </ConfigProvider>
  </StrictMode>,
);
