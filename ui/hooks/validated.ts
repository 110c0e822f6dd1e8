import type { FormInstance } from "antd";

/**
 * The form's values once every field (or the named ones) is valid; `null` when one is not
 * (antd shows the messages). antd rejects a validation that raced a re-render as "out of
 * date" with no field in error: its values are good.
 */
export async function validated<T>(form: FormInstance<T>, fields?: (keyof T & string)[]): Promise<T | null> {
  try {
    return (await (fields ? form.validateFields(fields) : form.validateFields())) as T;
  } catch (e) {
    const failure = e as { errorFields?: unknown[]; values?: T };
    if (failure.errorFields && failure.errorFields.length === 0 && failure.values) return failure.values;
    return null;
  }
}
